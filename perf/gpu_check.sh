#!/bin/sh
# gpu_check.sh — everything the open issues ask of a lent GPU host: `clfer devices` and
# `selftest`, every test binary on the GPU, bench_runtime (cold and warm program builds, launch
# overhead, bandwidth, SGEMM to 4096), VGG13-FER+ training next to PyTorch on CUDA (then AlexNet
# and ResNet-18), bench_augment, VGG13-FER+ training on synthetic data with the data-time share on
# both pre-processing paths, 10 epochs of the GPU demo's recipe and of the paper's VGG13 (do they
# learn?), and the conv layers with im2col against Winograd. Each part runs under its own time
# limit and writes OUTDIR/NAME.log; one summary line per part goes to stdout, and
# OUTDIR/summary.txt keeps them.
#
# A task's device time is 15 minutes, machine start included, so the parts come in two sets of
# about five minutes' limits, one call each: `--only core` (devices selftest tests compare
# runtime: issues 2 and 3) first; `--only rest` (augment train compare_big demo gemm_tune
# conv_algo) in a second call while the machine is still warm.
#
# Here (no GPU needed):
#   cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release && cmake --build build-gpu -j2 &&
#   ../shared/tools/gpu-bundle build-gpu
# There (the library's device tool, carry ["build-gpu"], timeout_s 360 each; only 8 files come
# back from $OUT, so the logs travel as one archive):
#   perf/gpu_check.sh --build build-gpu --out /tmp/gc --only core;
#     tar czf "$OUT/gc-core.tgz" --exclude='*.safetensors' --exclude=synth -C /tmp gc
#   (the same with --only rest and gc-rest.tgz)
# Try it here first: perf/gpu_check.sh --build build-gpu --out /tmp/gpu-check --device pocl --torch-device cpu --quick
#
#   perf/gpu_check.sh [--build DIR] [--out DIR] [--device D] [--torch-device cuda|cpu] [--quick] [--only NAME,...]
# NAME: devices selftest tests compare runtime augment train compare_big demo gemm_tune conv_algo,
# or the sets core and rest.
set -u
cd "$(dirname "$0")/.." || exit 2
SELF="$PWD/perf/gpu_check.sh"
BUILD=build-gpu OUTDIR=gpu-check DEVICE=gpu TORCH=cuda QUICK=0 ONLY="" PART=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --out) OUTDIR=$2; shift 2 ;;
    --device) DEVICE=$2; shift 2 ;;
    --torch-device) TORCH=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --only) ONLY=$2; shift 2 ;;
    --part) PART=$2; shift 2 ;; # internal: one shell-function part, under `timeout`
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "gpu_check.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$BUILD/clfer" ] || { echo "gpu_check.sh: no $BUILD/clfer; build it first (see --help)" >&2; exit 2; }
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
BUILD=$(cd "$BUILD" && pwd)

# The GPU host's NVIDIA driver has no ICD file; the libraries the build needs travel in bundle/lib.
if [ ! -e /etc/OpenCL/vendors/nvidia.icd ] && ldconfig -p 2>/dev/null | grep -q libnvidia-opencl.so.1; then
  mkdir -p /etc/OpenCL/vendors && echo libnvidia-opencl.so.1 >/etc/OpenCL/vendors/nvidia.icd
fi
[ -d "$BUILD/bundle/lib" ] && export LD_LIBRARY_PATH="$BUILD/bundle/lib:${LD_LIBRARY_PATH:-}"
export CLFER_DEVICE="$DEVICE"
PY=python3
if ! $PY -c 'import torch' 2>/dev/null && /usr/bin/python3 -c 'import torch' 2>/dev/null; then PY=/usr/bin/python3; fi

case ",$ONLY," in *,core,*) ONLY="$ONLY,devices,selftest,tests,compare,runtime" ;; esac
case ",$ONLY," in *,rest,*) ONLY="$ONLY,augment,train,compare_big,demo,gemm_tune,conv_algo" ;; esac
want() { [ -z "$ONLY" ] || echo ",$ONLY," | grep -q ",$1,"; }
[ -n "$PART" ] || : >"$OUTDIR/summary.txt"
part() { # part NAME LIMIT_S CMD...: runs CMD under a time limit into NAME.log
  name=$1 limit=$2
  shift 2
  want "$name" || return 0
  log="$OUTDIR/$name.log"
  t0=$(date +%s)
  { echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"; echo "\$ $*"; } >"$log"
  timeout "$limit" "$@" >>"$log" 2>&1
  rc=$?
  line="$name: rc $rc in $(($(date +%s) - t0)) s$( [ $rc = 124 ] && echo " (time limit $limit s)")"
  echo "$line" | tee -a "$OUTDIR/summary.txt"
}

# Test binaries carry the build's absolute paths (fixtures, test-tmp, the clfer program): where
# the tree was copied elsewhere, a link from the original path makes them valid again.
tests() {
  src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$BUILD/CMakeCache.txt")
  if [ -n "$src" ] && [ ! -e "$src" ]; then mkdir -p "$(dirname "$src")" && ln -s "$PWD" "$src"; fi
  if [ -n "$src" ] && [ "$(cd "$src" 2>/dev/null && pwd -P)" != "$(pwd -P)" ]; then
    echo "the build was configured in $src, which is another tree here; tests not run"
    return 2
  fi
  failed=0 skipped=0
  for t in "$BUILD"/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    start=$(date +%s)
    # a test without a device skips, so a lost GPU would look like a pass: count the skips
    XDG_CACHE_HOME="$BUILD/test-cache" "$t" --jobs 1 --verbose >"$OUTDIR/tests-$name.log" 2>&1
    rc=$?
    tested=$(sed -n 's/.*Synthesis: Tested: \([0-9]*\).*/\1/p' "$OUTDIR/tests-$name.log" | tail -n 1)
    skips=$(grep -c '^\[SKIP\]' "$OUTDIR/tests-$name.log")
    skipped=$((skipped + skips))
    if [ $rc = 0 ]; then
      echo "PASS $name: ${tested:-0} ran, $skips skipped ($(($(date +%s) - start)) s)"
    else
      echo "FAIL $name ($(($(date +%s) - start)) s): see tests-$name.log"
      tail -n 20 "$OUTDIR/tests-$name.log"
      failed=$((failed + 1))
    fi
  done
  echo "$failed test binaries failed; $skipped tests skipped"
  [ $failed = 0 ]
}

# VGG13-FER+ on synthetic FER+ data, on each pre-processing path: img/s and the data-time share.
train() {
  data="$OUTDIR/synth"
  "$BUILD/clfer" synth --out "$data" --train "$1" --valid 64 --test 64 >/dev/null || return 1
  for on in host auto device; do
    echo "--- data.preprocess_on = $on"
    "$BUILD/clfer" train --recipe apps/recipes/ferplus_vgg13_mv.ini --set data.dir="$data" --set train.epochs=1 \
      --set data.eval_limit=64 --set data.preprocess_on=$on --out "$OUTDIR/train-$on" --no-progress || return 1
  done
}

# The GPU demo's recipe (ResNet-18, demo_gpu.ini) for its 10 epochs on the train part's data;
# then the paper's VGG13 (SGD 0.05) for 10 epochs: does it leave the class prior on a GPU?
demo() {
  data="$OUTDIR/synth"
  [ -f "$data/fer2013new.csv" ] || "$BUILD/clfer" synth --out "$data" --train "$1" --valid 64 --test 64 >/dev/null || return 1
  "$BUILD/clfer" train --recipe apps/recipes/demo_gpu.ini --set data.dir="$data" --out "$OUTDIR/demo" --no-progress ||
    return 1
  "$BUILD/clfer" train --recipe apps/recipes/ferplus_vgg13_mv.ini --set data.dir="$data" --set train.epochs=10 \
    --out "$OUTDIR/demo-vgg13" --no-progress
}

# The conv layers and a training step with im2col only, with Winograd F(2×2, 3×3) forced on every
# 3×3 layer, and with the automatic choice (F(4×4, 3×3) for wide 3×3 layers): does Winograd pay
# on this GPU, and which tile? ($1: conv reps)
conv_algo() {
  for algo in im2col winograd2 auto; do
    echo "--- CLFER_CONV_ALGO=$algo"
    CLFER_CONV_ALGO=$algo "$BUILD/bench_ops" --device "$DEVICE" --batches 32 --steps 5 --conv-batch 32 \
      --conv-reps "$1" --infer-batch 0 --latency 0 || return 1
  done
}

if [ -n "$PART" ]; then # shellcheck disable=SC2086
  $PART
  exit $?
fi
if [ $QUICK = 1 ]; then
  GEMM=1024 BATCHES=32 STEPS=2 INFER=32 LATENCY=5 SYNTH=256 MODELS="--alexnet --big-batch 2" CONV_REPS=1
else
  GEMM=4096 BATCHES=32,64,256 STEPS=10 INFER=256 LATENCY=100 SYNTH=4096 MODELS="--alexnet --resnet18" CONV_REPS=3
fi
# in order of what the issues need most; core's limits add up to 345 s, rest's to 300 s
part devices 20 "$BUILD/clfer" devices
part selftest 45 "$BUILD/clfer" selftest --device "$DEVICE"
part tests 150 "$SELF" --build "$BUILD" --out "$OUTDIR" --device "$DEVICE" --torch-device "$TORCH" --part tests
# shellcheck disable=SC2086
part compare 100 $PY perf/compare_pytorch.py "$BUILD/bench_ops" --device "$TORCH" --clfer-device "$DEVICE" \
  --batches $BATCHES --steps $STEPS --warmup 2 --infer-batch $INFER --latency $LATENCY
part runtime 30 "$BUILD/bench_runtime" --device "$DEVICE" --max-gemm $GEMM
part augment 15 "$BUILD/bench_augment" 256 10
part train 80 "$SELF" --build "$BUILD" --out "$OUTDIR" --device "$DEVICE" --torch-device "$TORCH" --part "train $SYNTH"
# shellcheck disable=SC2086
part compare_big 90 $PY perf/compare_pytorch.py "$BUILD/bench_ops" --device "$TORCH" --clfer-device "$DEVICE" \
  --batches 32 --steps $STEPS --warmup 2 --infer-batch 0 --latency 0 $MODELS
part demo 60 "$SELF" --build "$BUILD" --out "$OUTDIR" --device "$DEVICE" --torch-device "$TORCH" --part "demo $SYNTH"
# it proposes a GEMM tuning entry for src/ops/gemm_tuning.c
part gemm_tune 30 "$BUILD/bench_gemm_tune" --device "$DEVICE"
part conv_algo 25 "$SELF" --build "$BUILD" --out "$OUTDIR" --device "$DEVICE" --torch-device "$TORCH" --part "conv_algo $CONV_REPS"
echo "logs: $OUTDIR"
