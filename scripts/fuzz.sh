#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang-14, ASan + UBSan) in build-fuzz/ and runs them through
# CTest: each replays its seeds and past reproducers, then fuzzes for STATIQ_FUZZ_SECONDS (5).
# Longer runs: see "Fuzzing" in README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${STATIQ_FUZZ_SECONDS:-5}"
CC=clang-14 cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DSTATIQ_FUZZ=ON -DSTATIQ_FUZZ_SECONDS="$seconds" \
  -DSTATIQ_BUILD_TESTS=OFF -DSTATIQ_BUILD_EXAMPLES=OFF -DSTATIQ_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_all
ctest --test-dir build-fuzz -L fuzz --output-on-failure -j"$(nproc)"
