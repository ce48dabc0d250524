#!/usr/bin/env bash
# Build llama-cpp-python from its sdist for this CPU and install it into .venv (see the Makefile for why).
#   tools/build_llama.sh               the recorded profile, else "native"
#   tools/build_llama.sh native        GGML_NATIVE (AVX2/AVX-512/VNNI where present), without AMX
#   tools/build_llama.sh conservative  only AVX/AVX2/FMA/F16C where present (the fallback of `make run`)
# The wheel is kept per profile and CPU (hash of its flags) under models/llama-wheels: a wheel built on
# another CPU may use instructions this one lacks, so pip's own wheel cache is not used.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=0.3.36
PY=.venv/bin/python
PROFILE_FILE=models/llama-build-profile
profile=${1:-$(cat "$PROFILE_FILE" 2>/dev/null || echo native)}
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
key=$(printf '%s' "$flags" | md5sum | cut -c1-10)
dir=models/llama-wheels/$profile-$key
has() { [[ " $flags " == *" $1 "* ]] && echo ON || echo OFF; }

# No AMX in any profile: llama.cpp's AMX backend repacks K-quant weights and crashes the first decode
# on Sapphire-Rapids-class Xeons (llama.cpp issue 20824). GCC's explicit -mno-* options win over
# -march=native, so the AMX code path is not compiled at all.
no_amx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
args="-DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF"
case $profile in
  native) args="$args -DGGML_NATIVE=ON" ;;
  conservative)
    args="$args -DGGML_NATIVE=OFF -DGGML_AVX=$(has avx) -DGGML_AVX2=$(has avx2) -DGGML_FMA=$(has fma)"
    args="$args -DGGML_F16C=$(has f16c) -DGGML_AVX512=OFF -DGGML_AVX_VNNI=OFF"
    args="$args -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" ;;
  *) echo "unknown profile $profile (native | conservative)" >&2; exit 2 ;;
esac

if ! ls "$dir"/llama_cpp_python-"$VERSION"-*.whl >/dev/null 2>&1; then
  echo "llama.cpp wird für diese CPU gebaut (Profil $profile, einmalig etwa 5 min) …"
  rm -rf "$dir"
  CFLAGS="$no_amx" CXXFLAGS="$no_amx" CMAKE_ARGS="$args" CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
    "$PY" -m pip wheel -q --no-deps --no-cache-dir -w "$dir" "llama-cpp-python==$VERSION"
fi
"$PY" -m pip install -q --force-reinstall --no-deps "$dir"/llama_cpp_python-"$VERSION"-*.whl
echo "$profile" > "$PROFILE_FILE"
