#!/usr/bin/env bash
# The test command of the README and of CI (.ci/run). Three passes, each timed (summary at the end):
# 1. build/: the fast kernels of this CPU, tests at -O1, the whole suite.
# 2. build-reference/: the reference kernels (STATIQ_ARCH=reference) built with ASan + UBSan at -O1
#    (a sanitizer report fails its test: -fno-sanitize-recover), running the unit and codegen tests:
#    the bit-exact claims of the unit tests (fast kernels against the reference ones included) and
#    of the generated engines hold with the reference kernels, and the generator meets hostile input
#    under the sanitizers. The oracle and example tests run in pass 1 only: under ASan they take
#    several times longer (15 to 25 min more at -j2 on 2 cores, past CI's 30 min).
#    STATIQ_CI_REFERENCE_ALL=1 runs them here too (every test but the compile-fail pairs and the
#    device tests, as before).
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
  summary+=("$(printf '%-40s %5d s' "$name" $((SECONDS - start)))")
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
reference_labels=(-L 'unit|codegen')
[ "${STATIQ_CI_REFERENCE_ALL:-0}" = 1 ] && reference_labels=(-LE 'compile_fail|device')
fuzz_seconds="${STATIQ_FUZZ_SECONDS:-20}"
total_start=$SECONDS
timed "build/ (native kernels)" plain
timed "ctest build/ (all)" ctest --test-dir build --output-on-failure -j"$jobs"
timed "build-reference/ (reference, ASan+UBSan)" reference_sanitized
timed "ctest build-reference/ ${reference_labels[*]}" ctest --test-dir build-reference --output-on-failure -j"$jobs" \
  "${reference_labels[@]}"
timed "fuzz: build, replay, ${fuzz_seconds} s each" env STATIQ_FUZZ_SECONDS="$fuzz_seconds" scripts/fuzz.sh
summary+=("$(printf '%-40s %5d s' total $((SECONDS - total_start)))")
printf '%s\n' "scripts/test.sh, wall time per phase:" "${summary[@]}"
