#!/usr/bin/env bash
# expect_one_error.sh <regex> <compiler command...>
# The command must fail with exactly ONE error line, a "static assertion failed: statiq: ..." that
# matches <regex> (extended): a layer or graph breaking several rules reports only the first.
set -u
regex=$1
shift
out=$("$@" 2>&1)
rc=$?
if [ $rc -eq 0 ]; then echo "compiled, expected exactly one error"; exit 1; fi
errors=$(printf '%s\n' "$out" | grep -E -c 'error:')
asserts=$(printf '%s\n' "$out" | grep -E -c 'static assertion failed: statiq: ')
if [ "$errors" -eq 1 ] && [ "$asserts" -eq 1 ] &&
   printf '%s\n' "$out" | grep -E 'error:' | grep -Eq -- "$regex"; then
  exit 0
fi
echo "expected one error matching '$regex'; got $errors error line(s), $asserts statiq assertion(s):"
printf '%s\n' "$out" | grep -E 'error:|In instantiation of' | head -20
exit 1
