#!/bin/sh
# bench/neon/count.sh — AArch64 instructions per layer of bench/neon/layer_insns.cpp, for the reference
# kernels, plain NEON (-march=armv8-a) and NEON + dot product (-march=armv8.2-a+dotprod), counted
# under qemu-aarch64 -cpu max by count_insns.py (QEMU gives instruction counts, not time). Each figure
# is (count with 3 runs - count with 1 run) / 2: one call of the layer, setup excluded.
# Needs aarch64-linux-gnu-g++ and qemu-aarch64 (scripts/setup.sh). Run from the repository root.
set -eu
out=${TMPDIR:-/tmp}/statiq_neon_count
mkdir -p "$out"
for variant in "reference armv8-a -DSTATIQ_REFERENCE_KERNELS" "neon armv8-a" "neon_dotprod armv8.2-a+dotprod"; do
  set -- $variant
  aarch64-linux-gnu-g++ -std=c++20 -O2 -ffp-contract=off -march="$2" ${3:-} -Iinclude -static \
    bench/neon/layer_insns.cpp -o "$out/layer_insns_$1"
done
printf '%-28s %14s %14s %14s\n' layer reference neon neon_dotprod
for layer in conv3x3 conv1x1 depthwise dense; do
  line=$(printf '%-28s' "$layer")
  for v in reference neon neon_dotprod; do
    one=$(python3 bench/neon/count_insns.py "$out/layer_insns_$v" 1 "$layer" | sed -n 's/^instructions: //p')
    three=$(python3 bench/neon/count_insns.py "$out/layer_insns_$v" 3 "$layer" | sed -n 's/^instructions: //p')
    line="$line $(printf '%14d' $(( (three - one) / 2 )))"
  done
  echo "$line"
done
