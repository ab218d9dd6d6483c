#!/usr/bin/env bash
# The GPU check: CUDA paths (bf16 / fp16 autocast, loss scaling, the reward under autocast), the paper's DiCO step and
# beam search against the transformers peer, peak memory, decoder FLOP/s as a share of the GPU's bf16 peak.
# Sized for ~8 minutes on one H200. `bench/gpu_check.sh --dry-run` runs it on a CPU at tiny sizes (the test suite does).
# Figures go to $OUT/gpu_check.json when $OUT is set (or to --out FILE), and a summary to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PY=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
if [[ " $* " != *" --dry-run "* ]]; then nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true; fi
exec "$PY" bench/gpu_check.py "${@/--dry-run/--dry_run}"
