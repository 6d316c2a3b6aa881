#!/bin/bash
# ab_zoo.sh — one training step of each zoo model (ms, bench_ops), two builds alternated twice,
# so that a change is measured against what it replaced on the same machine at the same load.
# usage: perf/ab_zoo.sh OLD_BUILD_DIR [NEW_BUILD_DIR (default build)]
#   e.g. git worktree add /tmp/old REV && cmake -S /tmp/old -B /tmp/old/build -DCMAKE_BUILD_TYPE=Release \
#        && cmake --build /tmp/old/build -j2 --target bench_ops && perf/ab_zoo.sh /tmp/old/build
# Environment variables pass through to both sides (CLFER_GEMM=clblast, CLFER_CONV_ALGO=...).
set -euo pipefail
old=${1:?usage: perf/ab_zoo.sh OLD_BUILD_DIR [NEW_BUILD_DIR]}
new=${2:-build}
cd "$(dirname "$0")/.."
step() {
  local dir=$1 model=$2 size=$3 channels=$4 batch=$5
  "$dir/bench_ops" --model "$model" --size "$size" --channels "$channels" --classes 8 --no-conv --batches "$batch" \
    --steps 3 --warmup 1 --infer-batch 0 --latency 0 2>/dev/null | awk '/^ +[0-9]+ +[0-9.]+ +[0-9.]+$/{print $2}'
}
echo "# $(date -u '+%F %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg); training step ms, $old / $new, alternated"
for spec in "vgg13_ferplus 64 1 32" "alexnet 227 3 8" "vgg_cnn_m_2048 224 3 8" "resnet18 112 3 8" \
            "ohlsen_cnn 48 1 32" "rafdb_basedcnn 100 3 8" "fer_small 48 1 64"; do
  a1=$(step "$old" $spec); b1=$(step "$new" $spec); a2=$(step "$old" $spec); b2=$(step "$new" $spec)
  printf '%-24s old %8s / %-8s new %8s / %-8s\n' "$spec" "$a1" "$a2" "$b1" "$b2"
done
