// device/bsp/semihosting.hpp — the Arm semihosting calls the board support uses: text to the
// debugger's (QEMU's) console and the program's exit status. A BKPT 0xAB on M-profile, with the
// operation in r0 and its parameter block in r1 (Arm's "Semihosting for AArch32 and AArch64").
#pragma once

#include <cstdint>

namespace statiq::board::semihosting {

enum class Op : std::uint32_t {
  write0 = 0x04,         // SYS_WRITE0: a NUL-terminated string to the console
  exit_extended = 0x20,  // SYS_EXIT_EXTENDED: stop, with a reason and a status
};

inline std::uint32_t call(Op op, const void* parameter) {
  register std::uint32_t r0 asm("r0") = static_cast<std::uint32_t>(op);
  register const void* r1 asm("r1") = parameter;
  asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

inline void write0(const char* text) { call(Op::write0, text); }

// ADP_Stopped_ApplicationExit: a normal exit; QEMU exits with the status as its own.
[[noreturn]] inline void exit(int status) {
  const std::uint32_t block[2] = {0x20026u, static_cast<std::uint32_t>(status)};
  call(Op::exit_extended, block);
  for (;;) asm volatile("wfi");  // not under a debugger: nowhere to go
}

}  // namespace statiq::board::semihosting
