"""Retries with growing pauses (tenacity) for the HTTP services the answer depends on: a Chroma server
and an OpenAI-compatible model server. Only what cannot have reached the server is retried (the
connection failed) or what the server says is temporary (502/503/504, 429); a request that timed out
while being answered is not sent twice."""

from __future__ import annotations

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

TEMPORARY_STATUS = {429, 502, 503, 504}


class TemporaryStatus(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.status = response.status_code


def retryable(exc: BaseException) -> bool:
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | TemporaryStatus)


def retrying(attempts: int, max_wait_s: float = 8.0) -> Retrying:
    return Retrying(
        stop=stop_after_attempt(max(1, attempts)),
        wait=wait_exponential_jitter(multiplier=0.3, max=max_wait_s),
        retry=retry_if_exception(retryable),
        reraise=True,
    )


class RetryTransport(httpx.BaseTransport):
    """An httpx transport that retries connection failures and temporary server errors."""

    def __init__(self, inner: httpx.BaseTransport, attempts: int = 4) -> None:
        self.inner = inner
        self.attempts = attempts

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for attempt in retrying(self.attempts):
            with attempt:
                response = self.inner.handle_request(request)
                last = attempt.retry_state.attempt_number >= self.attempts
                if response.status_code in TEMPORARY_STATUS and not last:
                    response.close()
                    raise TemporaryStatus(response)
                return response
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        self.inner.close()


def reason_de(exc: BaseException) -> str:
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return "keine Verbindung"
    if isinstance(exc, httpx.TimeoutException):
        return "keine Antwort in der Zeit"
    if isinstance(exc, TemporaryStatus):
        return f"vorübergehend nicht verfügbar, HTTP {exc.status}"
    if isinstance(exc, httpx.HTTPStatusError):
        return f"Fehler HTTP {exc.response.status_code}"
    if isinstance(exc, httpx.TransportError):
        return "Verbindung abgebrochen"
    return type(exc).__name__
