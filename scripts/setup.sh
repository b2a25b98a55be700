#!/usr/bin/env bash
# Installs the Debian packages statiq needs, only those that are missing (idempotent).
set -euo pipefail
packages=(
  g++ cmake make                      # toolchain
  libboost-dev libeigen3-dev libfmt-dev catch2 libbenchmark-dev
  libgemmlowp-dev                     # test oracle for the tflite profile
  libonnx-dev libonnx-testdata libprotobuf-dev protobuf-compiler
  libcli11-dev nlohmann-json3-dev libstb-dev zlib1g-dev libssl-dev
  flatbuffers-compiler libflatbuffers-dev  # statiq-codegen --tflite (the .tflite flatbuffer)
  clang-14 libclang-rt-14-dev         # the libFuzzer harnesses of fuzz/ (STATIQ_FUZZ=ON)
  gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib  # Cortex-M (cmake/toolchains)
  qemu-system-arm qemu-user g++-aarch64-linux-gnu                            # the boards, aarch64 Linux
  chromium                            # renders --report-html in its test (headless screenshot)
)
# node + npm run the onnxruntime oracle (tools/ort); Debian's own when the machine has none.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
fi

# The onnxruntime oracle of tests/ort: onnxruntime-node at the pinned version of
# tools/ort/package-lock.json (its npm package carries the CPU binary, so no install scripts run).
if command -v npm >/dev/null 2>&1; then
  ort_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tools/ort"
  if [ ! -d "$ort_dir/node_modules/onnxruntime-node" ]; then
    echo "setup: installing onnxruntime-node into tools/ort"
    (cd "$ort_dir" && npm ci --ignore-scripts --no-audit --no-fund)
  fi
  # The TensorFlow Lite oracle of tests/tflite: tfjs-tflite-node at the pinned version of
  # tools/tflite/package-lock.json, for the libtensorflowlite_c.so (TFLite 2.9) and C API headers it
  # carries; tools/tflite/run_tflite links them in place (no install script runs).
  tflite_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tools/tflite"
  if [ ! -d "$tflite_dir/node_modules/tfjs-tflite-node" ]; then
    echo "setup: installing tfjs-tflite-node into tools/tflite"
    (cd "$tflite_dir" && npm ci --ignore-scripts --no-audit --no-fund)
  fi
else
  echo "setup: npm not found after installing nodejs/npm: tests/ort (the onnxruntime oracle) cannot run" >&2
  exit 1
fi
