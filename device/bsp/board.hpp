// device/bsp/board.hpp — what the board support offers a program on the QEMU Cortex-M boards:
// its name, the deterministic cost counter (instructions executed, under qemu -icount shift=0)
// and the peak stack measured by painting.
#pragma once

#include <cstddef>
#include <cstdint>

namespace statiq::board {

// The QEMU machine the program was linked for (STATIQ_BOARD), e.g. "mps2-an386".
const char* name();

// Instructions executed since reset, counted by SysTick on the CPU clock. Under qemu
// `-icount shift=0` every instruction advances the virtual clock by 1 ns, so one tick of a
// `cpu_hz` clock is 1e9 / cpu_hz instructions (40 on the 25 MHz MPS2, 31.25 on the 32 MHz MPS3): the count is exact to
// that granularity and the same on every run. Without -icount it is a wall-clock time.
std::uint64_t instructions();

// The most stack used since reset, in bytes: the stack is painted at reset and the lowest
// overwritten word found by scanning.
std::size_t peak_stack_bytes();
std::size_t stack_bytes();  // the stack's size (the linker script's STACK_SIZE)

}  // namespace statiq::board
