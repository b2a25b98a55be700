#!/usr/bin/env bash
# bench/e2e/run.sh — end-to-end latency of the generated engine vs onnxruntime, in one run: for each
# shared model that generates for cpu-int8, statiq-codegen --qdq writes the engine and its QDQ export
# (the same quantized model), the engine is compiled at -O2 into engine_timing.cpp, onnxruntime-node
# runs the QDQ model (tools/ort/bench.js: 1 thread, optimisation "all"), both on the same rows
# (the model's inputs.npy, which are the engine's golden vectors), and a ratio table is printed.
#
#   bench/e2e/run.sh [--codegen PATH] [--models m1,m2] [--runs N] [--budget SECONDS] [--work DIR]
#                    [--arch native|reference|<-march value>]
#
# A model written m:dynamic is generated with --dynamic instead (onnxruntime's dynamic quantization;
# onnxruntime then runs the dynamic export): e.g. --models mnist8,mnist8:dynamic.
# --codegen: statiq-codegen (default $STATIQ_CODEGEN, else build/codegen/statiq-codegen);
# --runs / --budget: timed runs per model and side, cut short after the budget (default 200, 3 s);
# --work: keep the generated files there (default: a temporary folder, removed at the end).
# --arch: the engine's instruction set (default native: the fast kernels this CPU runs; reference:
#         the reference kernels).
# Environment: CXX (default c++), NODE (default node), STATIQ_SHARED_DIR (default ../shared).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
shared=${STATIQ_SHARED_DIR:-$repo/../shared}
codegen=${STATIQ_CODEGEN:-$repo/build/codegen/statiq-codegen}
models="mnist8,mnist8:dynamic,opt_mnist,mlperf_kws,mlperf_resnet8,mlperf_vww,tv_resnet_bb1111_random"
runs=200
budget=3
work=""
arch=native
cxx=${CXX:-c++}
node=${NODE:-node}

usage() { sed -n '7,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --codegen) codegen=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --arch) arch=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "run.sh: unknown argument $1" >&2; usage ;;
  esac
done

[ -x "$codegen" ] || { echo "run.sh: no statiq-codegen at $codegen (build the statiq-codegen target or pass --codegen)" >&2; exit 2; }
[ -d "$repo/tools/ort/node_modules/onnxruntime-node" ] ||
  { echo "run.sh: tools/ort is not installed (scripts/setup.sh, or: cd tools/ort && npm ci --ignore-scripts)" >&2; exit 2; }
if [ -z "$work" ]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/statiq_e2e.XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"

# The engine's golden vectors are all the rows of inputs.npy: the leading dimension of its header.
npy_rows() { head -c 256 "$1" | tr -d '\0' | LC_ALL=C sed -n "s/.*'shape': (\([0-9]*\),.*/\1/p"; }

# A figure from a timing program's line "runs N median_us X min_us Y [model_run_us Z kernels_us K]".
field() { sed -n "s/.*$1 \([0-9.]*\).*/\1/p" <<< "$2"; }

case $arch in
  reference) arch_flags=(-DSTATIQ_REFERENCE_KERNELS) ;;
  "") arch_flags=() ;;
  *) arch_flags=("-march=$arch") ;;
esac

load_start=$(cut -d" " -f1-3 /proc/loadavg)
rows_out=()
IFS=, read -r -a list <<< "$models"
for entry in "${list[@]}"; do
  m=${entry%%:*}
  mode=()
  [ "$entry" = "$m:dynamic" ] && mode=(--dynamic)
  dir=$shared/models/$m
  inputs=$dir/inputs.npy
  [ -f "$dir/model.onnx" ] || { echo "run.sh: no model $dir/model.onnx" >&2; exit 1; }
  # Calibration as in tests/ort: the MNIST models on 300 digits, the others on their inputs.
  case $m in
    mnist8|opt_mnist) calib=(--calib "$repo/examples/data/mnist_1k_u8.npy" --calib-samples 300) ;;
    *) calib=(--calib "$inputs") ;;
  esac
  rows=$(npy_rows "$inputs")
  out=$work/${entry/:/_}
  mkdir -p "$out"
  echo "== $entry: generate (cpu-int8 ${mode[*]}, --qdq, $rows golden vectors = inputs.npy)" >&2
  "$codegen" "$dir/model.onnx" --target cpu-int8 "${mode[@]}" "${calib[@]}" --eval "$inputs" --golden "$rows" \
    --name "$m" --qdq "$out/qdq.onnx" -o "$out/engine" > "$out.generate.log" 2>&1 ||
    { cat "$out.generate.log" >&2; exit 1; }
  echo "== $m: compile the engine at -O2 ${arch_flags[*]}" >&2
  "$cxx" -std=c++20 -O2 -DNDEBUG -ffp-contract=off "${arch_flags[@]}" -I"$repo/include" -I"$out/engine" \
    "-DSTATIQ_E2E_HEADER=\"$m.hpp\"" -DSTATIQ_E2E_NAMESPACE="$m" \
    "$here/engine_timing.cpp" "$out/engine/${m}_data.cpp" -o "$out/engine_timing"
  # The engine's static arena (activations + the kernels' scratch) with this build's kernels and
  # with the reference kernels: a constant of the model type, printed by a program of one line.
  printf '#include <cstdio>\n#include "%s.hpp"\nint main() { std::printf("%%zu\\n", std::size_t(%s::model::arena_bytes)); }\n' \
    "$m" "$m" > "$out/arena.cpp"
  "$cxx" -std=c++20 -O0 "${arch_flags[@]}" -I"$repo/include" -I"$out/engine" "$out/arena.cpp" -lfmt -o "$out/arena_fast"
  "$cxx" -std=c++20 -O0 -DSTATIQ_REFERENCE_KERNELS -I"$repo/include" -I"$out/engine" "$out/arena.cpp" -lfmt -o "$out/arena_ref"
  arena_fast=$("$out/arena_fast") arena_ref=$("$out/arena_ref")
  echo "== $m: time the engine" >&2
  s=$("$out/engine_timing" "$runs" "$budget" 10)
  echo "== $m: time onnxruntime" >&2
  o=$("$node" "$repo/tools/ort/bench.js" "$out/qdq.onnx" --input "$inputs" --runs "$runs" --budget "$budget" --warmup 10)
  rows_out+=("$(awk -v m="$entry" -v s="$(field median_us "$s")" -v o="$(field median_us "$o")" \
    -v smin="$(field min_us "$s")" -v omin="$(field min_us "$o")" -v sn="$(field runs "$s")" -v on="$(field runs "$o")" \
    -v orun="$(field model_run_us "$o")" -v okern="$(field kernels_us "$o")" \
    -v af="$arena_fast" -v ar="$arena_ref" \
    'BEGIN { printf "| %s | %.1f | %.1f | %.2f | %.1f | %.1f | %.2f | %.1f | %.1f | %d / %d | %d / %d |", m, s, o, o / s, orun, okern, okern / s, smin, omin, sn, on, af, ar }')")
done

echo
timing_programs=("$work"/*/engine_timing)
echo "statiq engine (kernels: $("${timing_programs[0]}" --kernels 2>/dev/null || echo "?"); -O2 ${arch_flags[*]}) vs onnxruntime-node $(cd "$repo/tools/ort" && "$node" -p "require('onnxruntime-node/package.json').version"), 1 thread each, median per inference"
echo "CPU: $(nproc) x $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), load average $load_start at the start, $(cut -d" " -f1-3 /proc/loadavg) at the end, $("$cxx" --version | head -1)"
echo
echo "| model | statiq us | onnxruntime us | speed-up (ort/statiq) | ort model_run us (profiled) | ort kernels us (profiled) | speed-up vs ort kernels | statiq min us | ort min us | runs (statiq / ort) | arena bytes (these kernels / reference) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows_out[@]}"
