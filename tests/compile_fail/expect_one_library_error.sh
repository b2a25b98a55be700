#!/usr/bin/env bash
# expect_one_library_error.sh <rule> <regex> <compiler command...> (g++ or clang++): the KO build
# must fail with ONE error from the library, the static_assert of statiq::diag::<rule>: nothing piled
# on top. Errors in the test file itself are its own static_asserts (a user's checks of the model,
# e.g. `static_assert(model::valid)`), not counted. A non-empty <regex> (extended) must moreover match the output: the rule's exact
# arguments as that compiler spells them.
set -u
rule=$1 regex=$2
shift 2
out=$(LC_ALL=C "$@" 2>&1)
rc=$?
if [ $rc -eq 0 ]; then echo "KO build compiled, expected statiq::diag::$rule"; exit 1; fi
errors=$(printf '%s\n' "$out" | grep -E ': error:')
count=$(printf '%s\n' "$errors" | grep -c .)
library=$(printf '%s\n' "$errors" | grep -vc 'tests/compile_fail/')
if [ "$library" -ne 1 ]; then
  echo "expected one error from the library, got $library (and $((count - library)) in the test file):"
  printf '%s\n' "$errors" | head -20; exit 1
fi
# g++: "In instantiation of '... statiq::diag::<rule><...>::report() [with ...]'"; clang: "requirement
# '::statiq::diag::always_false<statiq::diag::<rule><...>>'"
if ! printf '%s\n' "$out" | grep -Eq "statiq::diag::$rule<"; then
  echo "the library's error is not statiq::diag::$rule:"; printf '%s\n' "$out" | head -20; exit 1
fi
if [ -n "$regex" ] && ! printf '%s\n' "$out" | grep -Eq -- "$regex"; then
  echo "the error is statiq::diag::$rule, but not with: $regex"; printf '%s\n' "$out" | head -20; exit 1
fi
