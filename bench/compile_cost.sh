#!/usr/bin/env bash
# Cost of generating and compiling engines: for mnist8, the largest bundled model
# (tv_resnet_bb1111_random, 5.4 M parameters) and a 25 M-parameter model with ResNet-50's structure
# and seeded random weights (written here by tools/make_resnet50: about 100 MB, not kept in the
# repository), run statiq-codegen (wall and CPU seconds, peak resident memory, with GNU time), then compile
# each generated translation unit at -O2 the same way, and run the self-test (bit-exact golden vectors).
# The weights go into the data translation unit as string literals (--weights-encoding literal) or
# as <name>_weights.bin assembled in by .incbin (--weights-encoding incbin); both are measured.
#
# Usage: bench/compile_cost.sh [build dir with statiq-codegen and make_resnet50, default build]
#        [--quick]   the small models only (no ResNet-50)
#        [--all]     also ResNet-50 for akida-v2 with string literals (207 MB of source, ~3 GB to compile)
#        [--calib-samples N]   calibration samples of the ResNet-50 runs (16)
# Build the generator at -O2 for the timings (the test builds use -O1):
#   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release -DSTATIQ_BUILD_TESTS=OFF -DSTATIQ_BUILD_EXAMPLES=OFF \
#         -DSTATIQ_BUILD_BENCH=OFF && cmake --build build-rel -j2 --target statiq-codegen make_resnet50
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
quick=0
all=0
samples=16
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --all) all=1 ;;
    --calib-samples) samples=$2; shift ;;
    -*) echo "compile_cost.sh: unknown option $1" >&2; exit 1 ;;
    *) build=$1 ;;
  esac
  shift
done
gen=$build/codegen/statiq-codegen
make_resnet50=$build/tools/make_resnet50/make_resnet50
for exe in "$gen" "$make_resnet50"; do
  [ -x "$exe" ] || { echo "compile_cost.sh: $exe not found: build statiq-codegen and make_resnet50 in $build" >&2; exit 1; }
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p') x $(nproc), load average $(cut -d' ' -f1-3 /proc/loadavg); $(g++ --version | head -1)"

# timed <label> <command...>: one line "label: wall seconds, CPU seconds (user + system), peak resident MB".
# On a shared machine the wall time grows with the load; the CPU time much less.
timed() {
  local label=$1
  shift
  /usr/bin/time -f "%e %U %S %M" -o "$out/time" "$@" >"$out/log" 2>&1 || { cat "$out/log" >&2; echo "$label: FAILED" >&2; exit 1; }
  read -r seconds user system kb <"$out/time"
  printf '%-62s %6.1f s wall %6.1f s CPU %6d MB peak\n' "$label:" "$seconds" "$(awk -v u="$user" -v s="$system" 'BEGIN { print u + s }')" $((kb / 1024))
}

# measure <name> <model> <calib> <calib samples> <encoding> [more statiq-codegen options...]
measure() {
  local name=$1 model=$2 calib=$3 n=$4 encoding=$5
  shift 5
  local dir=$out/$name-$encoding
  timed "$name ($encoding) generation, $n samples $*" \
    "$gen" "$model" --calib "$calib" --calib-samples "$n" --golden 1 --name "$name" -o "$dir" \
    --weights-encoding "$encoding" "$@"
  local weights=""
  [ -f "$dir/${name}_weights.bin" ] && weights=" + $(stat -c %s "$dir/${name}_weights.bin") bytes of ${name}_weights.bin"
  echo "  $(stat -c %s "$dir/${name}_data.cpp") bytes of ${name}_data.cpp$weights"
  for tu in data selftest; do
    timed "$name ($encoding) $tu TU at -O2" \
      g++ -std=c++20 -O2 -ffp-contract=off -march=native -Iinclude -I"$dir" -c "$dir/${name}_$tu.cpp" -o "$dir/$tu.o"
  done
  g++ "$dir/data.o" "$dir/selftest.o" -lfmt -o "$dir/selftest"
  echo "  $("$dir/selftest")"
  rm -rf "$dir"
}

shared=../shared/models/tv_resnet_bb1111_random
for encoding in literal incbin; do
  measure mnist8 examples/data/mnist8.onnx examples/data/mnist_1k_u8.npy 8 "$encoding" --target cpu-int8
  measure tv_resnet $shared/model.onnx $shared/inputs.npy 8 "$encoding" --target cpu-int8
done
[ "$quick" = 1 ] && exit 0

"$make_resnet50" -o "$out/resnet50.onnx" --samples "$out/resnet50_calib.npy" --sample-count "$samples"
r50=("$out/resnet50.onnx" "$out/resnet50_calib.npy" "$samples")
measure resnet50 "${r50[@]}" incbin --target cpu-int8
measure resnet50 "${r50[@]}" incbin --target akida-v2 --legalize --input-pixels imagenet
# the string literals of the same weights, for comparison (akida-v2's are 207 MB of source: --all)
measure resnet50 "${r50[@]}" literal --target cpu-int8
[ "$all" = 1 ] && measure resnet50 "${r50[@]}" literal --target akida-v2 --legalize --input-pixels imagenet
exit 0
