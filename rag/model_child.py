"""Entry point of the model server child process (started by rag.model_server, never imported by the
web process): it dies with its parent, yields the CPU to searches, then runs llama-cpp-python's own
OpenAI-compatible server with the arguments it was given."""

from __future__ import annotations

import contextlib
import os
import runpy
import sys
import threading
import time

GENERATION_NICENESS = 10  # CPU share about 1:9 against the web process while both want the cores


def main() -> None:
    parent = int(os.environ.get("KREISWISSEN_PARENT_PID", "0"))
    if parent:  # a killed web process must not leave a 2 GB model server behind
        threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    # With 20 questions at once the searches and the streaming of extracts to the other users take
    # the cores first; a generation alone still gets them all.
    with contextlib.suppress(OSError):
        os.nice(GENERATION_NICENESS)
    sys.argv = ["llama_cpp.server", *sys.argv[1:]]
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


def _exit_with(parent: int) -> None:
    # Not PR_SET_PDEATHSIG: it fires when the *thread* that started the child ends, and restarts are
    # started from short-lived monitor threads.
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


if __name__ == "__main__":
    main()
