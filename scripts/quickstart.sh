#!/usr/bin/env bash
# The Quick start's main job: installs what is missing, then statiq-codegen quantizes the bundled
# mnist-8 for cpu_int8 (summary, per-layer SQNR, float vs quantized accuracy), and the generated
# engine is compiled and run on real digits (self-test of the golden vectors, accuracy, latency).
# Uses the 10,000 digits of ../shared/data when present, else the 1,000 bundled in examples/data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build-quickstart -DCMAKE_BUILD_TYPE=Release -DSTATIQ_BUILD_TESTS=OFF -DSTATIQ_BUILD_BENCH=OFF >/dev/null
cmake --build build-quickstart --target statiq-codegen mnist8_cpu_engine -j"$(nproc)"
if [ -f ../shared/data/mnist_10k_u8.npy ]; then
  digits=../shared/data/mnist_10k_u8.npy labels=../shared/data/mnist_10k_labels.npy
else
  digits=examples/data/mnist_1k_u8.npy labels=examples/data/mnist_1k_labels.npy
fi
echo "== statiq-codegen: mnist8.onnx -> cpu_int8 engine (build-quickstart/mnist8_out/)"
build-quickstart/codegen/statiq-codegen examples/data/mnist8.onnx --target cpu-int8 \
  --calib examples/data/mnist_1k_u8.npy --calib-samples 300 --eval "$digits" --labels "$labels" \
  -o build-quickstart/mnist8_out
echo "== the generated engine, compiled (statiq_add_model in examples/CMakeLists.txt) and run"
build-quickstart/examples/mnist8_cpu_engine "$digits" "$labels"
