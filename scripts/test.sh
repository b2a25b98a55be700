#!/usr/bin/env bash
# The test command of the README and of CI (.ci/run). Three passes, each timed (summary at the end):
# 1. build/: the fast kernels of this CPU, tests at -O1, the whole suite.
# 2. build-reference/: the reference kernels (STATIQ_ARCH=reference) built with ASan + UBSan at -O1,
#    running every test that runs an engine (all but the compile-fail pairs and the device tests,
#    which do not depend on the host's ISA): each bit-exact claim holds with the fast kernels and
#    with the reference ones, and the unit, codegen, oracle and example tests run under the
#    sanitizers (a report fails the test: -fno-sanitize-recover).
# 3. build-fuzz/: the libFuzzer harnesses (clang-14, ASan + UBSan) replay their seeds and every
#    past reproducer (fuzz/regressions/), then fuzz STATIQ_FUZZ_SECONDS (20) each (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc)
summary=()
timed() {  # timed <name> <command...>: runs it, records its wall time
  local name=$1 start=$SECONDS
  shift
  "$@"
  summary+=("$(printf '%-34s %4d s' "$name" $((SECONDS - start)))")
}
plain() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g0" >/dev/null
  cmake --build build -j"$jobs"
}
reference_sanitized() {
  cmake -S . -B build-reference -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g0" \
    -DSTATIQ_ARCH=reference -DSTATIQ_SANITIZE=ON -DSTATIQ_BUILD_BENCH=OFF >/dev/null
  cmake --build build-reference -j"$jobs"
}
total_start=$SECONDS
timed "build/ (native kernels)" plain
timed "ctest build/ (all)" ctest --test-dir build --output-on-failure -j"$jobs"
timed "build-reference/ (reference, ASan)" reference_sanitized
timed "ctest build-reference/" ctest --test-dir build-reference --output-on-failure -j"$jobs" -LE 'compile_fail|device'
timed "fuzz (build, replay, ${STATIQ_FUZZ_SECONDS:-20} s each)" env STATIQ_FUZZ_SECONDS="${STATIQ_FUZZ_SECONDS:-20}" scripts/fuzz.sh
summary+=("$(printf '%-34s %4d s' total $((SECONDS - total_start)))")
printf '%s\n' "test.sh times:" "${summary[@]}"
