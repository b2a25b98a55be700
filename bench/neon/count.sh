#!/bin/sh
# bench/neon/count.sh [ENGINE_DIR...] — AArch64 instructions per call of each layer of
# bench/neon/layer_insns.cpp, and per inference of each generated engine in ENGINE_DIR (a folder
# statiq-codegen wrote: <name>.hpp, <name>_data.cpp), for the reference kernels, plain NEON
# (-march=armv8-a) and NEON + dot product (-march=armv8.2-a+dotprod), counted under qemu-aarch64 -cpu
# max by count_insns.py (QEMU gives instruction counts, not time). Each figure is (count with 3 runs -
# count with 1 run) / 2: one call, setup excluded. Needs aarch64-linux-gnu-g++ and qemu-aarch64
# (scripts/setup.sh). Run from the repository root; `ctest -R device_aarch64_linux` leaves mnist8's
# engines in build/tests/device/aarch64_linux/mnist8_{cpu,tflite}_int8.
set -eu
out=${TMPDIR:-/tmp}/statiq_neon_count
mkdir -p "$out"
variants="reference neon neon_dotprod"
flags() {
  case $1 in
    reference) echo "-march=armv8-a -DSTATIQ_REFERENCE_KERNELS" ;;
    neon) echo "-march=armv8-a" ;;
    neon_dotprod) echo "-march=armv8.2-a+dotprod" ;;
  esac
}
per_call() {  # program args...: instructions of one more run
  one=$(python3 bench/neon/count_insns.py "$1" 1 ${2:-} | sed -n 's/^instructions: //p')
  three=$(python3 bench/neon/count_insns.py "$1" 3 ${2:-} | sed -n 's/^instructions: //p')
  echo $(( (three - one) / 2 ))
}
for v in $variants; do
  aarch64-linux-gnu-g++ -std=c++20 -O2 -ffp-contract=off $(flags $v) -Iinclude -static \
    bench/neon/layer_insns.cpp -o "$out/layer_insns_$v"
done
printf '%-34s %14s %14s %14s\n' "layer / engine" $variants
for layer in conv3x3 conv1x1 depthwise depthwise_m2 dense grouped add_qlinear_fma add_qlinear_portable add_tflite add_pow2 add_akida_v1 add_gemmini; do
  line=$(printf '%-34s' "$layer")
  for v in $variants; do line="$line $(printf '%14d' "$(per_call "$out/layer_insns_$v" "$layer")")"; done
  echo "$line"
done
for dir in "$@"; do
  name=$(basename "$dir")
  line=$(printf '%-34s' "$name (one inference)")
  for v in $variants; do
    aarch64-linux-gnu-g++ -std=c++20 -O2 -ffp-contract=off $(flags $v) -Iinclude -I"$dir" -static \
      -DSTATIQ_MODEL_HEADER="\"$name.hpp\"" -DSTATIQ_MODEL_NAMESPACE="$name" \
      bench/neon/engine_insns.cpp "$dir/${name}_data.cpp" -o "$out/engine_${name}_$v"
    line="$line $(printf '%14d' "$(per_call "$out/engine_${name}_$v")")"
  done
  echo "$line"
done
