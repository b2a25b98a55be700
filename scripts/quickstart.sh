#!/usr/bin/env bash
# The Quick start's main job: installs what is missing, builds and runs the hand-written mnist8
# engine (cpu_int8) on real MNIST digits: its summary, float vs quantized accuracy and latency.
# Uses the 10,000 digits of ../shared when present, else the 1,000 bundled in examples/data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build-quickstart -DCMAKE_BUILD_TYPE=Release -DSTATIQ_BUILD_TESTS=OFF -DSTATIQ_BUILD_BENCH=OFF \
      -DSTATIQ_BUILD_CODEGEN=OFF >/dev/null
cmake --build build-quickstart --target mnist8_handwritten -j"$(nproc)"
if [ -f ../shared/data/mnist_10k_u8.npy ]; then
  digits=../shared/data/mnist_10k_u8.npy labels=../shared/data/mnist_10k_labels.npy
else
  digits=examples/data/mnist_1k_u8.npy labels=examples/data/mnist_1k_labels.npy
fi
build-quickstart/examples/mnist8_handwritten examples/data/mnist8_weights "$digits" "$labels"
