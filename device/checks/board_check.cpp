// device/checks/board_check.cpp — the board support checks itself: the heap-free printf formats as
// the C library would (the expected text is in checks/CMakeLists.txt), the instruction counter
// counts a loop of known length, the stack is painted, and the exit status reaches the host (7).
#include <cstdint>
#include <cstdio>

#include "board.hpp"

namespace {

// 2 * n + 1 instructions: mov, then n times subs + bne.
void known_loop(std::uint32_t n) {
  asm volatile(
      "mov r0, %0\n"
      "1:\n\t"
      "subs r0, r0, #1\n\t"
      "bne 1b\n"
      :
      : "r"(n)
      : "r0", "cc");
}

}  // namespace

int main() {
  volatile float third = 1.0f / 3.0f;
  volatile double tiny = 4.9406564584124654e-324;  // the smallest subnormal
  std::printf("[%d|%5d|%-5d|%05d|%+d|%u|%x|%#X|%o|%zu|%lld|%hhd|%.3d|%s|%.2s|%c|%%]\n", -42, 42, 42, -42, 7, 4000000000u,
              255u, 255u, 8u, sizeof(std::uint64_t), -1234567890123LL, 300, 5, "text", "text", 'c');
  std::printf("[%a|%a|%a|%a|%A|%a]\n", static_cast<double>(third), 1.0, 0.0, -2.5, 255.0, static_cast<double>(tiny));

  const std::uint32_t n = 100000;
  const std::uint64_t t0 = statiq::board::instructions();
  known_loop(n);
  const std::uint64_t counted = statiq::board::instructions() - t0;
  const std::uint64_t expected = 2 * n + 1;
  // The counter's own reads and the call add a few tens of instructions; a tick is 40 (31.25).
  const bool count_ok = counted >= expected && counted <= expected + 200;
  std::printf("instructions: %llu counted for a loop of %llu: %s\n", static_cast<unsigned long long>(counted),
              static_cast<unsigned long long>(expected), count_ok ? "ok" : "WRONG (is STATIQ_BOARD_CPU_HZ the board's clock?)");
  const bool stack_ok = statiq::board::peak_stack_bytes() > 0 && statiq::board::peak_stack_bytes() < statiq::board::stack_bytes();
  std::printf("stack: %s\n", stack_ok ? "painted" : "NOT MEASURED");
  return count_ok && stack_ok ? 7 : 1;
}
