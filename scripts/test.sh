#!/usr/bin/env bash
# Builds everything (tests at -O1) in build/ and runs the whole test suite with CTest; then builds
# it again in build-reference/ with the reference kernels (STATIQ_ARCH=reference) and runs every test
# that runs an engine again there (all but the compile-fail pairs and the device tests, which do not
# depend on the host's ISA),
# so each bit-exact claim holds with the fast kernels and with the reference ones.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g0" >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"
cmake -S . -B build-reference -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g0" \
  -DSTATIQ_ARCH=reference -DSTATIQ_BUILD_BENCH=OFF >/dev/null
cmake --build build-reference -j"$jobs"
ctest --test-dir build-reference --output-on-failure -j"$jobs" -LE 'compile_fail|device'
