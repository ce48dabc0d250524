"""The bundled model runs in a supervised child process, never in the web process.

llama.cpp is native code: a fault in it (the AMX crash on Sapphire-Rapids Xeons, an out-of-memory
kill, a hang) used to take every user's session down with it. Here it runs as llama-cpp-python's own
OpenAI-compatible server on a loopback port (`rag.model_child`), so the web process talks to it with
the same client as to vLLM or Ollama. A monitor thread notices when the child ends, records why (in
German, for the answer in flight) and starts a new one, which evaluates the fixed system prompt again
(`on_ready`). A child that keeps dying while starting is not restarted in a loop: after
MAX_STARTS starts within START_WINDOW_S the server reports itself unavailable and the answers show
their extracts with a note until `kreiswissen doctor` has been run.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import httpx

from kreiswissen.settings import GeneratorSettings

log = logging.getLogger(__name__)

MODEL_ALIAS = "kreiswissen"
START_TIMEOUT_S = 180.0  # loading a GGUF takes 1-10 s; a busy or slow disk more
MAX_STARTS = 4
START_WINDOW_S = 300.0
LOG_MAX_BYTES = 5 << 20


class ModelServerDown(RuntimeError):
    """The model server child could not be started; the message is German."""


def exit_reason(returncode: int | None) -> str:
    """How a child ended, in German, for the note under an answer and for `kreiswissen doctor`."""
    if returncode is None:
        return "reagiert nicht mehr"
    if returncode < 0:
        sig = -returncode
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"Signal {sig}"
        return {
            signal.SIGSEGV: f"ist abgestürzt (Speicherzugriffsfehler, {name})",
            signal.SIGILL: f"ist abgestürzt (Prozessorbefehl unbekannt, {name}: Build passt nicht zur CPU)",
            signal.SIGBUS: f"ist abgestürzt ({name})",
            signal.SIGABRT: f"wurde abgebrochen ({name})",
            signal.SIGKILL: f"wurde beendet ({name}, meist: Arbeitsspeicher erschöpft)",
        }.get(sig, f"wurde beendet ({name})")
    return f"wurde beendet (Rückgabewert {returncode})"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalModelServer:
    """One llama.cpp server child for one GGUF file; `url()` starts it on demand."""

    def __init__(self, model: Path, settings: GeneratorSettings, log_path: Path | None = None) -> None:
        self.model = model
        self.settings = settings
        self.log_path = log_path
        self.on_ready: Callable[[], None] | None = None  # after each (re)start, e.g. warm the prompt
        self.last_exit = ""  # German: how the previous child ended
        self.restarts = 0
        self._lock = threading.RLock()
        self._proc: subprocess.Popen | None = None
        self._port = 0
        self._ready = False
        self._closed = False
        self._starts: deque[float] = deque(maxlen=MAX_STARTS)

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def command(self, port: int) -> list[str]:
        from .generator import physical_cores

        threads = str(self.settings.threads or physical_cores())
        return [
            sys.executable,
            "-X",
            "faulthandler",  # a native crash leaves a Python traceback in the child's log
            "-m",
            "rag.model_child",
            "--model",
            str(self.model),
            "--model_alias",
            MODEL_ALIAS,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            str(self.settings.context_window),
            "--n_threads",
            threads,
            "--n_threads_batch",
            threads,
            "--n_batch",
            "512",
            "--seed",
            str(self.settings.seed),
            # The web process queues generations itself; a token count must not cut an answer short.
            "--interrupt_requests",
            "False",
        ]

    def url(self) -> str:
        """Base URL of a running, ready child (started if needed); ModelServerDown if it cannot start."""
        with self._lock:
            if self._closed:
                raise ModelServerDown("Der Sprachmodell-Prozess wurde beendet.")
            if self._proc is None or self._proc.poll() is not None or not self._ready:
                self._start()
            return f"http://127.0.0.1:{self._port}/v1"

    def _start(self) -> None:
        now = time.monotonic()
        if len(self._starts) == MAX_STARTS and now - self._starts[0] < START_WINDOW_S:
            raise ModelServerDown(
                f"Das Sprachmodell startet auf diesem Rechner nicht (zuletzt: {self.last_exit or 'unbekannt'}). "
                "Bitte `kreiswissen doctor` ausführen."
            )
        self._starts.append(now)
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()  # started but never ready: a hung load
            self._proc.wait()
        self._ready = False
        self._port = _free_port()
        env = os.environ | {"KREISWISSEN_PARENT_PID": str(os.getpid()), "PYTHONUNBUFFERED": "1"}
        output = self._open_log()
        try:
            proc = subprocess.Popen(
                self.command(self._port),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=Path(__file__).resolve().parent.parent,  # `-m rag.model_child` finds the project
            )
        finally:
            if output is not subprocess.DEVNULL:
                output.close()
        self._proc = proc
        log.info("model server child %d starting on port %d (%s)", proc.pid, self._port, self.model.name)
        deadline = time.monotonic() + START_TIMEOUT_S
        url = f"http://127.0.0.1:{self._port}/v1/models"
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.last_exit = exit_reason(proc.returncode)
                raise ModelServerDown(
                    f"Der Sprachmodell-Prozess {self.last_exit}, noch bevor er bereit war. "
                    "Bitte `kreiswissen doctor` ausführen."
                )
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            proc.kill()
            proc.wait()
            self.last_exit = "wurde nicht rechtzeitig bereit"
            raise ModelServerDown(f"Der Sprachmodell-Prozess {self.last_exit}.")
        self._ready = True
        threading.Thread(target=self._watch, args=(proc,), name="model-server-watch", daemon=True).start()

    def _open_log(self):
        if self.log_path is None:
            return subprocess.DEVNULL
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        mode = "wb" if self.log_path.exists() and self.log_path.stat().st_size > LOG_MAX_BYTES else "ab"
        out = self.log_path.open(mode)
        out.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} start {self.model.name}\n".encode())
        out.flush()
        return out

    def _watch(self, proc: subprocess.Popen) -> None:
        """Wait for the child to end; unless it was closed on purpose, start the next one and warm it."""
        proc.wait()
        with self._lock:
            if self._closed or proc is not self._proc:
                return
            self.last_exit = exit_reason(proc.returncode)
            self._ready = False
        log.error("model server child %d %s; restarting", proc.pid, self.last_exit)
        try:
            self.url()
            self.restarts += 1
            if self.on_ready is not None:
                self.on_ready()
        except Exception:  # the next question tries again and shows the reason
            log.exception("restarting the model server failed")

    @property
    def process(self) -> subprocess.Popen | None:
        return self._proc

    def failure(self, proc: subprocess.Popen | None, wait_s: float = 2.0) -> str:
        """After a request to the child `proc` failed: why, in German. A child that is still running
        but did not deliver is hung: it is killed (and so restarted by its monitor)."""
        if proc is None:
            return self.last_exit or "ist nicht gestartet"
        try:
            proc.wait(timeout=wait_s)  # a crash may reach us over the socket before the exit status
        except subprocess.TimeoutExpired:
            log.error("model server child %d is not responding; killing it", proc.pid)
            proc.kill()
            proc.wait()
            return exit_reason(None)
        return exit_reason(proc.returncode)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
