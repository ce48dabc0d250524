"""Generator component: a GGUF file through llama.cpp's server in a supervised child process (the CPU
default, the bundled model), a Hugging Face model folder through transformers, or an OpenAI-compatible
server (vLLM, Ollama) for a county with a GPU – llama.cpp's child and the GPU server speak the same
protocol through one client. One `match` picks it; optional imports stay inside their case."""

from __future__ import annotations

import atexit
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from kreiswissen.model_assets import assemble_gguf
from kreiswissen.settings import GeneratorSettings, Settings

from .model_child import GENERATION_NICENESS

log = logging.getLogger(__name__)

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": ...}


class Generator(Protocol):
    name: str
    context_window: int

    def stream(self, messages: list[Message], max_new_tokens: int, temperature: float) -> Iterator[str]:
        """Yield text pieces; closing the iterator stops generation at once."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def prompt_tokens(self, messages: list[Message]) -> int: ...

    def warm(self, messages: list[Message]) -> None:
        """Load the model and evaluate a fixed prompt prefix, so the first question does not pay."""
        ...


def physical_cores() -> int:
    import psutil

    return psutil.cpu_count(logical=False) or os.cpu_count() or 1


class LlamaCppGenerator:
    """A GGUF model through llama-cpp-python inside this process (backend `llamacpp-inprocess`): kept
    only so that `kreiswissen bench answer` can compare it with the child process (LlamaServerGenerator);
    a native fault here ends the whole process. Quantised matrix products that run fast on any x86 CPU
    with AVX2. llama.cpp keeps the evaluated prompt and re-uses its longest common prefix, so the fixed
    system prompt is evaluated once (at warm-up) and each question pays only for its own tokens."""

    def __init__(self, path: Path, settings: GeneratorSettings) -> None:
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        if not path.is_file():
            raise FileNotFoundError(f"GGUF model not found: {path}")
        threads = settings.threads or physical_cores()
        self.llm = Llama(
            model_path=str(path),
            n_ctx=settings.context_window,
            n_threads=threads,
            n_threads_batch=threads,
            n_batch=512,
            seed=settings.seed,
            verbose=False,
        )
        self.name = path.name
        self.context_window = settings.context_window
        self.seed = settings.seed
        eos = self.llm.token_eos()
        self._format = Jinja2ChatFormatter(
            template=self.llm.metadata["tokenizer.chat_template"],
            eos_token=self.llm.detokenize([eos], special=True).decode("utf-8", "ignore"),
            bos_token="",
            stop_token_ids=[eos],
        )
        # Every llama.cpp call runs in this one thread (one Llama context: one generation at a time).
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="llama-cpp", initializer=_yield_to_searches)

    def _prompt(self, messages: list[Message]) -> tuple[str, list[str]]:
        response = self._format(messages=messages)
        stop = response.stop if isinstance(response.stop, list) else [response.stop] if response.stop else []
        return response.prompt, [s for s in stop if s]  # an empty stop string would end every answer

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def prompt_tokens(self, messages: list[Message]) -> int:
        prompt, _ = self._prompt(messages)
        return len(self.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))

    def warm(self, messages: list[Message]) -> None:
        prompt, _ = self._prompt(messages)
        self._worker.submit(self.llm.create_completion, prompt, max_tokens=1, temperature=0.0).result()

    def stream(self, messages: list[Message], max_new_tokens: int, temperature: float) -> Iterator[str]:
        prompt, stop = self._prompt(messages)
        pieces: queue.Queue[str | BaseException | None] = queue.Queue()
        stopped = threading.Event()

        def generate() -> None:
            try:
                if stopped.is_set():  # given up while an earlier generation still ran
                    return
                completion = self.llm.create_completion(
                    prompt,
                    max_tokens=max_new_tokens,
                    temperature=temperature,
                    top_p=1.0,
                    top_k=0 if temperature > 0 else 1,
                    repeat_penalty=1.0,
                    seed=self.seed,
                    stop=stop,
                    stream=True,
                )
                try:
                    for piece in completion:
                        if stopped.is_set():
                            break  # a cancelled answer stops evaluating after this token
                        if text := piece["choices"][0]["text"]:
                            pieces.put(text)
                finally:
                    completion.close()
            except BaseException as exc:  # handed to the reader's thread
                pieces.put(exc)
            finally:
                pieces.put(None)

        self._worker.submit(generate)
        try:
            while (item := pieces.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stopped.set()


def _yield_to_searches() -> None:
    """Lower the generation thread's CPU priority (Linux: per thread). The OpenMP threads llama.cpp
    starts from it inherit it, so with 20 questions at once the searches and the streaming of extracts
    to the other users take the cores first, and a generation alone still gets them all."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), GENERATION_NICENESS)
    except OSError as exc:  # another OS or no permission: generation keeps the normal priority
        log.info("could not lower the generation thread's priority: %s", exc)


def torch_dtype(setting: str):
    """bf16 only where the CPU multiplies it in hardware (or on a GPU); else float32, which AVX2 runs
    well — bf16 emulated on an AVX2-only CPU took minutes to the first token."""
    import torch

    from kreiswissen.model_assets import has_fast_bf16

    if setting == "bfloat16" or (setting == "auto" and (torch.cuda.is_available() or has_fast_bf16())):
        return torch.bfloat16
    return torch.float32


class TokenizerCounts:
    """Token counts from a transformers tokenizer (`self.tokenizer`) with the model's chat template."""

    tokenizer: Any

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False))

    def prompt_tokens(self, messages: list[Message]) -> int:
        # a BatchEncoding (not a dict subclass): its len() would count its keys
        ids = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=True, return_dict=True
        )
        return len(ids["input_ids"])


class TransformersGenerator(TokenizerCounts):
    """A causal LM from a Hugging Face folder (or a .gguf file, which transformers dequantises on load)."""

    def __init__(self, path: Path, settings: GeneratorSettings) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(settings.threads or physical_cores())
        kwargs: dict = {}
        folder = path
        if path.suffix == ".gguf":
            folder, kwargs["gguf_file"] = path.parent, path.name
        if not folder.exists():
            raise FileNotFoundError(f"Generator model not found: {path}")
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder), **kwargs)
        self.dtype = torch_dtype(settings.dtype)
        self.model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=self.dtype, **kwargs)
        self.model.eval()
        self.name = f"{path.name} ({str(self.dtype).removeprefix('torch.')})"
        self.context_window = min(
            settings.context_window, getattr(self.model.config, "max_position_embeddings", 1 << 30)
        )
        self.seed = settings.seed
        self._lock = threading.Lock()  # one generation at a time: the CPU is the bottleneck anyway

    def warm(self, messages: list[Message]) -> None:
        for _ in self.stream(messages, 1, 0.0):
            pass

    def stream(self, messages: list[Message], max_new_tokens: int, temperature: float) -> Iterator[str]:
        import torch
        from transformers import TextIteratorStreamer

        inputs = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        gen_kwargs = dict(
            **inputs,
            streamer=streamer,
            max_new_tokens=max_new_tokens,
            do_sample=temperature > 0,
            pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
        )
        if temperature > 0:
            gen_kwargs["temperature"] = temperature
        else:
            gen_kwargs.update(temperature=None, top_p=None, top_k=None)
        errors: list[BaseException] = []
        cancelled = threading.Event()
        gen_kwargs["stopping_criteria"] = [lambda *_args, **_kw: cancelled.is_set()]

        def run() -> None:
            try:
                with self._lock, torch.inference_mode():
                    torch.manual_seed(self.seed)
                    self.model.generate(**gen_kwargs)
            except BaseException as exc:  # surfaced to the caller after the stream ends
                errors.append(exc)
                streamer.end()

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        try:
            yield from streamer
        finally:
            cancelled.set()  # closed early (cancel, timeout): the model thread stops at the next token
            worker.join()
        if errors:
            raise errors[0]


class GeneratorUnavailable(RuntimeError):
    """The model server could not be reached; the message is German."""


class GeneratorCrashed(RuntimeError):
    """The model server ended or hung while it generated; the message is German."""


class StreamStalled(Exception):
    """No token arrived for the stall limit although the connection stayed open."""


class OpenAICompatibleGenerator:
    """Streams from /v1/chat/completions of a server on the county's own network."""

    def __init__(self, settings: GeneratorSettings) -> None:
        import httpx

        self.settings = settings
        self.name = f"{settings.api_model} @ {settings.api_base}"
        self.context_window = settings.context_window
        self.model = settings.api_model
        self.extra_body: dict = {}
        # A server that keeps the connection open (SSE pings) but sends no token for this long is
        # stuck: the answer keeps its extract. The read timeout covers a server that sends nothing.
        self.stall_s = settings.timeout_s
        headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
        timeout = httpx.Timeout(self.stall_s, connect=10)
        self._client = httpx.Client(headers=headers, timeout=timeout)

    def base_url(self) -> str:
        return self.settings.api_base.rstrip("/")

    def count_tokens(self, text: str) -> int:
        return len(text) // 3 + 1  # conservative for German without the server's tokenizer

    def prompt_tokens(self, messages: list[Message]) -> int:
        return sum(self.count_tokens(m["content"]) + 4 for m in messages)

    def warm(self, messages: list[Message]) -> None:
        """A remote server keeps its own cache; nothing to load here."""

    def stream(self, messages: list[Message], max_new_tokens: int, temperature: float) -> Iterator[str]:
        body = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_new_tokens,
            "temperature": temperature,
            "seed": self.settings.seed,
            "stream": True,
            **self.extra_body,
        }
        response = self._open(body)
        last = time.monotonic()
        try:
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    if time.monotonic() - last > self.stall_s:  # only keep-alive pings for too long
                        raise StreamStalled
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                last = time.monotonic()
                choices = json.loads(data).get("choices") or [{}]
                if delta := (choices[0].get("delta") or {}).get("content"):
                    yield delta
        finally:
            response.close()

    def _open(self, body: dict):
        """Send the request, retrying (tenacity) while nothing has been generated yet; a server that
        stays down ends in a German GeneratorUnavailable."""
        import httpx

        from kreiswissen.http_retry import TEMPORARY_STATUS, TemporaryStatus, reason_de, retrying

        tries = retrying(self.settings.api_retries)
        try:
            for attempt in tries:
                with attempt:
                    url = f"{self.base_url()}/chat/completions"
                    request = self._client.build_request("POST", url, json=body)
                    response = self._client.send(request, stream=True)
                    if response.status_code in TEMPORARY_STATUS:
                        response.close()
                        raise TemporaryStatus(response)
                    if response.is_error:
                        response.read()
                        response.raise_for_status()
                    return response
        except (httpx.HTTPError, TemporaryStatus) as exc:
            n = tries.statistics.get("attempt_number", 1)
            raise GeneratorUnavailable(
                f"Der Sprachmodell-Server {self.settings.api_base} ist nicht erreichbar ({reason_de(exc)}; "
                f"{n} Versuch{'e' if n != 1 else ''})."
            ) from exc
        raise AssertionError("unreachable")  # pragma: no cover


class LlamaServerGenerator(TokenizerCounts, OpenAICompatibleGenerator):
    """The bundled GGUF (or any GGUF file) through llama-cpp-python's OpenAI-compatible server, run as
    a supervised child process (rag.model_server): one protocol for the CPU default and for a GPU
    server, and a native crash costs one answer, not the web process. The child's llama.cpp keeps the
    evaluated prompt and re-uses its longest common prefix, so the fixed system prompt is evaluated
    once per start (warm) and each question pays only for its own tokens. Token counts come from the
    GGUF's tokenizer in this process (pure Python/Rust), so counting never waits for a generation."""

    def __init__(self, path: Path, settings: GeneratorSettings, models_dir: Path, log_path: Path) -> None:
        from kreiswissen.model_assets import gguf_tokenizer

        from .model_server import MODEL_ALIAS, LocalModelServer

        if not path.is_file():
            raise FileNotFoundError(f"GGUF model not found: {path}")
        super().__init__(settings.model_copy(update={"api_key": "", "api_retries": 3}))
        self.name = path.name
        self.model = MODEL_ALIAS
        # the in-process sampling, exactly: greedy at temperature 0, no repetition penalty
        self.extra_body = {"top_p": 1.0, "top_k": 0 if settings.temperature > 0 else 1, "repeat_penalty": 1.0}
        self.tokenizer = gguf_tokenizer(path, models_dir)
        self.server = LocalModelServer(path, settings, log_path)
        self.server.on_ready = self._rewarm
        self._warm_messages: list[Message] | None = None

    def base_url(self) -> str:
        return self.server.url()

    def warm(self, messages: list[Message]) -> None:
        self._warm_messages = messages
        for _ in self.stream(messages, 1, 0.0):
            pass

    def _rewarm(self) -> None:
        if self._warm_messages is not None:
            self.warm(self._warm_messages)

    def stream(self, messages: list[Message], max_new_tokens: int, temperature: float) -> Iterator[str]:
        import httpx

        from .model_server import ModelServerDown

        try:
            self.server.url()  # start the child, or wait until a restarted one is ready
        except ModelServerDown as exc:
            raise GeneratorUnavailable(str(exc)) from exc
        proc = self.server.process  # the child this answer talks to (a failure is judged on it)
        try:
            yield from super().stream(messages, max_new_tokens, temperature)
        except ModelServerDown as exc:
            raise GeneratorUnavailable(str(exc)) from exc
        except (httpx.TransportError, StreamStalled, GeneratorUnavailable) as exc:
            if isinstance(exc, GeneratorUnavailable) and proc is not None and proc.poll() is None:
                raise  # the child runs and answered with an error: nothing to restart
            reason = self.server.failure(proc)
            raise GeneratorCrashed(
                f"Die KI-Formulierung ist abgebrochen: Der Sprachmodell-Prozess {reason}; er wird neu "
                "gestartet, die nächste Frage wird wieder vollständig beantwortet."
            ) from exc

    def close(self) -> None:
        self.server.close()


_CACHE: dict[tuple, Generator] = {}
_CACHE_LOCK = threading.Lock()


def build_generator(settings: Settings) -> Generator:
    g = settings.generator
    key = (g.backend, str(g.model_path), g.api_base, g.api_model, g.dtype, g.context_window)
    with _CACHE_LOCK:
        if key not in _CACHE:
            match g.backend:
                case "llamacpp":
                    path = Path(g.model_path or assemble_gguf(settings.models_dir))
                    log_path = settings.data_dir / "logs" / "model-server.log"
                    generator = LlamaServerGenerator(path, g, settings.models_dir, log_path)
                    atexit.register(generator.close)
                    _CACHE[key] = generator
                case "llamacpp-inprocess":
                    path = g.model_path or assemble_gguf(settings.models_dir)
                    _CACHE[key] = LlamaCppGenerator(Path(path), g)
                case "transformers":
                    path = g.model_path or assemble_gguf(settings.models_dir)
                    _CACHE[key] = TransformersGenerator(Path(path), g)
                case "openai":
                    _CACHE[key] = OpenAICompatibleGenerator(g)
                case _:
                    raise ValueError(f"unknown generator backend {g.backend}")
        return _CACHE[key]
