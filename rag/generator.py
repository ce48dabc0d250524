"""Generator component: the bundled local model (transformers), any local model folder or GGUF
file, or an OpenAI-compatible server (vLLM, Ollama, llama.cpp server). One `match` picks it."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from kreiswissen.settings import GeneratorSettings, Settings

log = logging.getLogger(__name__)

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": ...}


class Generator(Protocol):
    name: str
    context_window: int

    def stream(self, messages: list[Message], max_new_tokens: int, temperature: float) -> Iterator[str]: ...

    def count_tokens(self, text: str) -> int: ...


class TransformersGenerator:
    """A causal LM from a local folder (or a .gguf file, which transformers dequantises on load)."""

    def __init__(self, path: Path, settings: GeneratorSettings) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if settings.threads:
            torch.set_num_threads(settings.threads)
        kwargs: dict = {}
        folder = path
        if path.suffix == ".gguf":
            folder, kwargs["gguf_file"] = path.parent, path.name
        if not folder.exists():
            raise FileNotFoundError(f"Generator model not found: {path}")
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder), **kwargs)
        self.model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.bfloat16, **kwargs)
        self.model.eval()
        self.name = path.name
        self.context_window = min(
            settings.context_window, getattr(self.model.config, "max_position_embeddings", 1 << 30)
        )
        self.seed = settings.seed
        self._lock = threading.Lock()  # one generation at a time: the CPU is the bottleneck anyway

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False))

    def prompt_tokens(self, messages: list[Message]) -> int:
        return len(self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True))

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
        yield from streamer
        worker.join()
        if errors:
            raise errors[0]


class OpenAICompatibleGenerator:
    """Streams from /v1/chat/completions of a server on the county's own network."""

    def __init__(self, settings: GeneratorSettings) -> None:
        import httpx

        self.settings = settings
        self.name = f"{settings.api_model} @ {settings.api_base}"
        self.context_window = settings.context_window
        headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
        self._client = httpx.Client(base_url=settings.api_base.rstrip("/"), headers=headers, timeout=120)

    def count_tokens(self, text: str) -> int:
        return len(text) // 3 + 1  # conservative for German without the server's tokenizer

    def prompt_tokens(self, messages: list[Message]) -> int:
        return sum(self.count_tokens(m["content"]) + 4 for m in messages)

    def stream(self, messages: list[Message], max_new_tokens: int, temperature: float) -> Iterator[str]:
        body = {
            "model": self.settings.api_model,
            "messages": messages,
            "max_tokens": max_new_tokens,
            "temperature": temperature,
            "seed": self.settings.seed,
            "stream": True,
        }
        with self._client.stream("POST", "/chat/completions", json=body) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                choices = json.loads(data).get("choices") or [{}]
                if delta := (choices[0].get("delta") or {}).get("content"):
                    yield delta


_CACHE: dict[tuple, Generator] = {}
_CACHE_LOCK = threading.Lock()


def build_generator(settings: Settings) -> Generator:
    g = settings.generator
    key = (g.backend, str(g.model_path), g.api_base, g.api_model)
    with _CACHE_LOCK:
        if key not in _CACHE:
            match g.backend:
                case "transformers":
                    from kreiswissen.model_assets import prepare_generator

                    path = g.model_path or prepare_generator(settings.models_dir)
                    _CACHE[key] = TransformersGenerator(Path(path), g)
                case "openai":
                    _CACHE[key] = OpenAICompatibleGenerator(g)
                case _:
                    raise ValueError(f"unknown generator backend {g.backend}")
        return _CACHE[key]
