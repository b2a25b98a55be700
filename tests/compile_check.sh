#!/usr/bin/env bash
# compile_check.sh ok|ko <regex> <compiler command...>
# ok: the command must succeed. ko: it must fail and its output must match <regex>
# (extended regex, searched in the whole output), so a KO build fails for the intended reason.
set -u
mode=$1 regex=$2
shift 2
out=$("$@" 2>&1)
rc=$?
if [ "$mode" = ok ]; then
  [ $rc -eq 0 ] && exit 0
  echo "OK build failed:"; echo "$out" | head -40; exit 1
fi
if [ $rc -eq 0 ]; then echo "KO build compiled, expected an error matching: $regex"; exit 1; fi
if printf '%s\n' "$out" | grep -Eq -- "$regex"; then exit 0; fi
echo "KO build failed, but not with: $regex"; echo "$out" | head -40; exit 1
