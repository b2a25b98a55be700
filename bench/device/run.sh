#!/usr/bin/env bash
# bench/device/run.sh — what the generated engines cost on the emulated boards: per model, target and
# board, flash (code + read-only data, of which the weights and requantization parameters), static RAM
# (.data + .bss, of which the arena), the measured peak stack, and the instructions executed by one
# inference (QEMU -icount: an emulated instruction count, not a time), in total and per layer, each
# built twice: with the Arm kernels the board selects (kernels/arm: DSP extension on the M4 and M7, MVE
# on the M55) and forced to the scalar reference kernels (-DSTATIQ_REFERENCE_KERNELS). Prints Markdown
# tables; the kernels column is the engine's own kernels::isa_name (arm_dsp, arm_mve, reference).
#
#   bench/device/run.sh                       # M4 and M55, mnist8 mlperf_kws mlperf_resnet8 mlperf_vww
#   BOARDS=cortex-m4 MODELS=mnist8 TARGETS=tflite-int8 bench/device/run.sh
# Environment: BOARDS (toolchain files of cmake/toolchains), MODELS, TARGETS (comma lists), OPT (-O2),
# STATIQ_CODEGEN_EXECUTABLE (default build/codegen/statiq-codegen), STATIQ_SHARED_DIR (../shared),
# WORK_DIR (build-device-bench), LAYERS=1 for the per-layer tables, KERNELS ("arm reference", or one).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
codegen="${STATIQ_CODEGEN_EXECUTABLE:-$root/build/codegen/statiq-codegen}"
shared="${STATIQ_SHARED_DIR:-$root/../shared}"
boards="${BOARDS:-cortex-m4 cortex-m55}"
models="${MODELS:-mnist8,mlperf_kws,mlperf_resnet8,mlperf_vww}"
targets="${TARGETS:-cpu-int8,tflite-int8}"
opt="${OPT:--O2}"
work="${WORK_DIR:-$root/build-device-bench}"
layers="${LAYERS:-0}"
kernel_sets="${KERNELS:-arm reference}"

if [ ! -x "$codegen" ]; then
  echo "bench/device/run.sh: no statiq-codegen at $codegen: build it (cmake --build build --target statiq-codegen)" \
       "or set STATIQ_CODEGEN_EXECUTABLE" >&2
  exit 1
fi

# The bytes of the symbols whose demangled names start with $2 (sizes in hex from nm -S).
symbol_bytes() {
  local total=0 address size type symbol
  while read -r address size type symbol; do
    [[ "$symbol" == "$2"* ]] && total=$((total + 16#$size))
  done < <(arm-none-eabi-nm -S -C "$1")
  echo "$total"
}

rows=()
layer_rows=()
declare -A count    # instructions per "model|target|board|kernels" (kernels: arm or reference)
declare -A arm_isa  # the Arm kernels' name per "model|target|board"
for board in $boards; do
  for kernels in $kernel_sets; do
    dir="$work/$board-$kernels"
    flags="$opt"
    [ "$kernels" = reference ] && flags="$opt -DSTATIQ_REFERENCE_KERNELS"
    cmake -S "$root/device" -B "$dir" -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/$board.cmake" \
      -DSTATIQ_CODEGEN_EXECUTABLE="$codegen" -DSTATIQ_SHARED_DIR="$shared" -DSTATIQ_DEVICE_MODELS="$models" \
      -DSTATIQ_DEVICE_TARGETS="$targets" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="$flags" >/dev/null
    # -k: an engine that does not fit the board fails its link ("region RAM overflowed"); the others go on.
    cmake --build "$dir" -j2 -- -k >"$dir/build.log" 2>&1 || true
    machine=$(sed -n 's/^STATIQ_BOARD:STRING=//p' "$dir/CMakeCache.txt")
    for model in ${models//,/ }; do
      for target in ${targets//,/ }; do
        name="${model}_${target//-/_}"
        exe="$dir/engine_cost_$name"
        if [ ! -f "$exe" ]; then
          # This program's own reason (the build log mixes every target's).
          why=$(cmake --build "$dir" --target "engine_cost_$name" 2>&1 |
                grep -m1 -oE "region [^ ]+ overflowed by [0-9]+ bytes|statiq-codegen: error: .{0,100}" || true)
          rows+=("| $model | $target | $machine | $kernels kernels | not built: ${why:-see $dir/build.log} |||||||")
          continue
        fi
        out=$(ctest --test-dir "$dir" -R "^engine_cost_${name}\$" -V 2>&1 | sed -n 's/^[0-9]*: //p')
        if ! grep -q "^instructions " <<<"$out"; then
          rows+=("| $model | $target | $machine | $kernels kernels | did not run: $(tail -n1 <<<"$out") |||||||")
          continue
        fi
        instructions=$(awk '/^instructions /{print $2}' <<<"$out")
        isa=$(awk '/^kernels /{print $2}' <<<"$out")
        arena=$(awk '/^arena /{print $2}' <<<"$out")
        bound=$(awk '/^arena_lower_bound /{print $2}' <<<"$out")
        stack=$(awk '/^peak_stack /{print $2}' <<<"$out")
        # Flash: everything loaded (code, read-only data, .data's initial values); RAM: .data + .bss
        # (the stack is its own section, reported by its measured peak).
        read -r flash ram < <(arm-none-eabi-size -A "$exe" | awk '
          $1 ~ /^\.(text|ARM\.extab|ARM\.exidx|preinit_array|init_array|fini_array|data)$/ { flash += $2 }
          $1 ~ /^\.(data|bss)$/ { ram += $2 }
          END { print flash, ram }')
        # The data translation unit's arrays, or with --weights-encoding incbin its statiq_<name>_ blobs.
        weights=$(( $(symbol_bytes "$exe" "$name::data::") + $(symbol_bytes "$exe" "statiq_${name}_") ))
        golden=$(symbol_bytes "$exe" "$name::golden_")
        count["$model|$target|$machine|$kernels"]=$instructions
        [ "$kernels" = arm ] && arm_isa["$model|$target|$machine"]=$isa
        rows+=("| $model | $target | $machine | $isa | $flash | $weights | $golden | $ram | $arena | $bound | $stack | $instructions |")
        if [ "$layers" = 1 ]; then
          while read -r _ index layer layer_count; do
            layer_rows+=("| $model | $target | $machine | $isa | $index | $layer | $layer_count | $(awk -v c="$layer_count" -v t="$instructions" 'BEGIN { printf "%.1f%%", 100 * c / t }') |")
          done < <(grep '^layer ' <<<"$out")
        fi
      done
    done
  done
done

echo "Optimisation: $opt; kernels: $kernel_sets; instructions are QEMU -icount counts (SysTick, ±1 tick of 40 / 31.25)."
echo
echo "| model | target | board | kernels | flash B | of which weights+params B | of which golden vectors B | static RAM B | of which arena B | arena lower bound B | peak stack B | instructions / inference |"
echo "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
# Reference against Arm kernels, where both ran.
comparison=()
for key in "${!count[@]}"; do
  [[ "$key" == *"|arm" ]] || continue
  ref="${count[${key%|arm}|reference]:-}"
  [ -n "$ref" ] || continue
  IFS='|' read -r model target machine _ <<<"$key"
  fast="${count[$key]}"
  comparison+=("| $model | $target | $machine | $ref | ${arm_isa[$model|$target|$machine]} | $fast | $(awk -v r="$ref" -v d="$fast" 'BEGIN { printf "%.2f", r / d }') |")
done
if [ "${#comparison[@]}" -gt 0 ]; then
  echo
  echo "| model | target | board | instructions, reference kernels | Arm kernels | instructions, Arm kernels | reference / Arm |"
  echo "|---|---|---|---:|---|---:|---:|"
  printf '%s\n' "${comparison[@]}" | sort
fi
if [ "$layers" = 1 ]; then
  echo
  echo "| model | target | board | kernels | node | layer | instructions | share |"
  echo "|---|---|---|---|---:|---|---:|---:|"
  printf '%s\n' "${layer_rows[@]}"
fi
