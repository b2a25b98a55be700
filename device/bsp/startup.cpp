// device/bsp/startup.cpp — reset and exceptions on the QEMU Cortex-M boards: the vector table,
// .data copied from flash and .bss zeroed, the stack painted (peak_stack_bytes), the FPU enabled,
// SysTick started (instructions), constructors run, then exit(main()) through semihosting.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "board.hpp"
#include "semihosting.hpp"

#ifndef STATIQ_BOARD
#error "device/bsp: compile with -DSTATIQ_BOARD=\"<qemu machine>\" (the toolchain files of cmake/toolchains set it)"
#endif
#ifndef STATIQ_BOARD_CPU_HZ
#error "device/bsp: compile with -DSTATIQ_BOARD_CPU_HZ=<the board's CPU clock> (the toolchain files set it)"
#endif

// Defined by the linker script (device/boards/cortex_m.ld).
extern "C" {
extern std::uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern std::uint32_t __stack_limit[], __stack_top[];
extern void (*__preinit_array_start[])();
extern void (*__preinit_array_end[])();
extern void (*__init_array_start[])();
extern void (*__init_array_end[])();
int main();
}

namespace {

constexpr std::uint32_t stack_paint = 0x5AC0FFEEu;

// System control space registers (Armv7-M / Armv8-M ARM, "System Control Space").
volatile std::uint32_t& reg(std::uintptr_t address) { return *reinterpret_cast<volatile std::uint32_t*>(address); }
constexpr std::uintptr_t cpacr = 0xE000ED88, syst_csr = 0xE000E010, syst_rvr = 0xE000E014, syst_cvr = 0xE000E018;
constexpr std::uint32_t systick_reload = 0x00FFFFFF;  // 24 bits

volatile std::uint32_t systick_wraps = 0;

void write_number(const char* before, std::uint32_t value) {
  char text[40];
  int n = 0;
  for (const char* p = before; *p != '\0' && n < 24; ++p) text[n++] = *p;
  char digits[12];
  int d = 0;
  do {
    digits[d++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (d > 0) text[n++] = digits[--d];
  text[n++] = '\n';
  text[n] = '\0';
  statiq::board::semihosting::write0(text);
}

}  // namespace

extern "C" {

[[noreturn]] void Reset_Handler();
void SysTick_Handler();
[[noreturn]] void Fault_Handler();

// Newlib's exit() and abort() end here.
[[noreturn]] void _exit(int status) { statiq::board::semihosting::exit(status); }
int _kill(int, int signal) { statiq::board::semihosting::exit(128 + signal); }
int _getpid() { return 1; }

}  // extern "C"

// A fault ends the program with a message and status 3 instead of hanging the emulator (the
// test would only time out): the usual causes are a stack overflow, an unaligned access or a
// misconfigured memory map.
void Fault_Handler() {
  std::uint32_t ipsr;
  asm volatile("mrs %0, ipsr" : "=r"(ipsr));
  write_number("statiq board: fault, exception number ", ipsr & 0x1FF);
  statiq::board::semihosting::exit(3);
}

void SysTick_Handler() { systick_wraps = systick_wraps + 1; }

void Reset_Handler() {
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
  // First, before the compiler's code may touch a floating-point or vector register (a loop below
  // vectorised with MVE would fault while CP10/CP11 are off).
  reg(cpacr) = reg(cpacr) | (0xFu << 20);  // CP10 and CP11 (FPU, MVE): full access
  asm volatile("dsb\n\tisb" ::: "memory");
#endif
  // Paint the stack below this function's frame, then copy .data and zero .bss.
  std::uint32_t* sp;
  asm volatile("mov %0, sp" : "=r"(sp));
  for (std::uint32_t* p = __stack_limit; p < sp - 16; ++p) *p = stack_paint;
  for (std::uint32_t *from = __data_load, *to = __data_start; to < __data_end;) *to++ = *from++;
  for (std::uint32_t* p = __bss_start; p < __bss_end; ++p) *p = 0;
  reg(syst_rvr) = systick_reload;
  reg(syst_cvr) = 0;
  reg(syst_csr) = 0x7;  // processor clock, interrupt on wrap, enabled
  for (auto f = __preinit_array_start; f < __preinit_array_end; ++f) (*f)();
  for (auto f = __init_array_start; f < __init_array_end; ++f) (*f)();
  std::exit(main());  // bare-metal startup calls main itself (ISO C++ reserves that; GCC allows it)
}

namespace statiq::board {

const char* name() { return STATIQ_BOARD; }

std::uint64_t instructions() {
  std::uint32_t wraps, value;
  do {  // a wrap between the two reads would pair the new count with the old wraps
    wraps = systick_wraps;
    value = reg(syst_cvr);
  } while (wraps != systick_wraps);
  const std::uint64_t ticks = std::uint64_t{wraps} * (systick_reload + 1) + (systick_reload - value);
  return ticks * 1000000000u / STATIQ_BOARD_CPU_HZ;  // 31.25 per tick at 32 MHz: multiply first
}

std::size_t stack_bytes() { return static_cast<std::size_t>(__stack_top - __stack_limit) * 4; }

std::size_t peak_stack_bytes() {
  const std::uint32_t* p = __stack_limit;
  while (p < __stack_top && *p == stack_paint) ++p;
  return static_cast<std::size_t>(__stack_top - p) * 4;
}

}  // namespace statiq::board

// The vector table: the initial stack pointer, then the exception handlers (Armv7-M / Armv8-M
// exception numbers 1-15). Interrupts are not used. A struct, so that every entry is a constant
// the linker places in flash (a cast of the stack address to a handler would not be).
using Handler = void (*)();
struct VectorTable {
  std::uint32_t* initial_stack;
  Handler exceptions[15];
};
extern "C" __attribute__((section(".vectors"), used)) const VectorTable statiq_vector_table = {
    __stack_top,
    {
        Reset_Handler,
        Fault_Handler,  // NMI
        Fault_Handler,  // HardFault
        Fault_Handler,  // MemManage
        Fault_Handler,  // BusFault
        Fault_Handler,  // UsageFault
        Fault_Handler,  // SecureFault (Armv8-M)
        nullptr, nullptr, nullptr,
        Fault_Handler,  // SVCall
        Fault_Handler,  // DebugMonitor
        nullptr,
        Fault_Handler,  // PendSV
        SysTick_Handler,
    }};
