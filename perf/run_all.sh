#!/bin/sh
# run_all.sh — every figure of docs/perf.md in one command: each benchmark headed by the date,
# the load average (other jobs share small machines) and the exact command that produced it.
#
#   perf/run_all.sh [--build DIR] [--device D] [--full] [--gpu] [--only NAME[,NAME...]]
#
# Default: the PoCL/CPU sizes (SGEMM up to 2048, VGG13-FER+ training at batch 32 only, inference
# at 32). --full: SGEMM to 4096 and batches 32,64,256, inference at 256. --gpu: --full plus
# PyTorch on CUDA (fp32 and default TF32) with AlexNet and ResNet-18. NAME is one of
# devices runtime layer_ops dense augment ops compare profile.
set -eu
cd "$(dirname "$0")/.."
BUILD=build DEVICE=auto FULL=0 GPU=0 ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --device) DEVICE=$2; shift 2 ;;
    --full) FULL=1; shift ;;
    --gpu) FULL=1; GPU=1; shift ;;
    --only) ONLY=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "run_all.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
# Debian's python3-torch lives in /usr/bin/python3 (a pyenv python3 may shadow it)
PY=python3
if ! $PY -c 'import torch' 2>/dev/null && /usr/bin/python3 -c 'import torch' 2>/dev/null; then PY=/usr/bin/python3; fi

want() { [ -z "$ONLY" ] || echo ",$ONLY," | grep -q ",$1,"; }
run() { # run NAME CMD...
  echo
  echo "=== $1 — $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  shift
  echo "\$ $*"
  "$@"
}

if [ $FULL = 1 ]; then
  GEMM=4096 BATCHES=32,64,256 INFER=256 STEPS=5
else
  GEMM=2048 BATCHES=32 INFER=32 STEPS=3
fi
want devices && run devices "$BUILD/clfer" devices
want runtime && run runtime "$BUILD/bench_runtime" --device "$DEVICE" --max-gemm $GEMM
want layer_ops && run layer_ops env CLFER_DEVICE="$DEVICE" "$BUILD/bench_layer_ops" 32 64 24 24 10
want dense && run dense "$BUILD/bench_dense" --device "$DEVICE"
want augment && run augment "$BUILD/bench_augment" 64 5
want ops && run ops "$BUILD/bench_ops" --device "$DEVICE" --batches $BATCHES --steps $STEPS --warmup 1 \
  --conv-batch 32 --conv-reps 2 --infer-batch $INFER --latency 20
if want compare; then
  if [ $GPU = 1 ]; then
    run compare $PY perf/compare_pytorch.py "$BUILD/bench_ops" --device cuda --alexnet --resnet18
  elif [ $FULL = 1 ]; then
    run compare $PY perf/compare_pytorch.py "$BUILD/bench_ops" --clfer-device "$DEVICE" --device cpu --steps 3 --warmup 1
  else
    run compare $PY perf/compare_pytorch.py "$BUILD/bench_ops" --clfer-device "$DEVICE" --device cpu --quick
  fi
fi
if want profile; then
  [ -f data/synth/fer2013.csv ] || "$BUILD/clfer" synth --out data/synth >/dev/null
  run profile "$BUILD/clfer" profile --device "$DEVICE" --recipe apps/recipes/demo.ini --steps 20 \
    --set data.train_limit=1280 --set data.eval_limit=64 --set augment.enabled=false --out runs/perf-profile --quiet
  cat runs/perf-profile/profile.txt 2>/dev/null || true
fi
