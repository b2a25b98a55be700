#!/usr/bin/env bash
# Compile time and memory of generated code for the largest bundled model (tv_resnet_bb1111_random,
# 5.4 M parameters) and for mnist8: generate for cpu_int8, then time each generated translation
# unit at -O2 with GNU time (wall seconds, peak resident memory).
# Usage: bench/compile_cost.sh [build dir with statiq-codegen, default build]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
gen=$build/codegen/statiq-codegen
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
measure() {  # name model calib
  "$gen" "$2" --target cpu-int8 --calib "$3" --calib-samples 8 --golden 1 --name "$1" -o "$out/$1" >/dev/null
  local bytes
  bytes=$(stat -c %s "$out/$1/$1_data.cpp")
  for tu in data selftest; do
    /usr/bin/time -f "$1 ${tu} TU: %e s, %M KB peak" \
      g++ -std=c++20 -O2 -ffp-contract=off -Iinclude -I"$out/$1" -c "$out/$1/$1_$tu.cpp" -o "$out/$1/$tu.o"
  done
  echo "$1: ${bytes} bytes of generated data source"
  g++ "$out/$1/data.o" "$out/$1/selftest.o" -lfmt -o "$out/$1/selftest" && "$out/$1/selftest"
}
measure mnist8 examples/data/mnist8.onnx examples/data/mnist_1k_u8.npy
measure tv_resnet ../shared/models/tv_resnet_bb1111_random/model.onnx ../shared/models/tv_resnet_bb1111_random/inputs.npy
