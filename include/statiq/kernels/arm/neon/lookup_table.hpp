// statiq/kernels/arm/neon/lookup_table.hpp — the 256-entry byte table lookup 16 bytes at a time on
// AArch64 NEON: TBL over the table's first 64 bytes, then TBX over each next 64 with the index less
// 64, 128, 192 (TBX leaves a lane whose index is out of its 64 bytes unchanged, and the subtraction
// wraps an index below the quarter past 63). A pure selection, no arithmetic: equal to
// kernels/reference/lookup_table.hpp by construction; tests/device/neon_kernels_test.cpp checks it
// byte for byte on every index and tail length under qemu-aarch64.
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_ARM_NEON)  // else this header is empty

#include <arm_neon.h>

#include <cstdint>

namespace statiq::kernels::arm::neon {

// y[i] = table[uint8(x[i])] for i < n; X and Y are one byte wide.
template <class X, class Y>
void lookup_table(const X* x, int n, const Y* table, Y* y) {
  static_assert(sizeof(X) == 1 && sizeof(Y) == 1);
  const auto* t = reinterpret_cast<const std::uint8_t*>(table);
  const uint8x16x4_t q0 = vld1q_u8_x4(t), q1 = vld1q_u8_x4(t + 64), q2 = vld1q_u8_x4(t + 128),
                     q3 = vld1q_u8_x4(t + 192);
  const uint8x16_t step = vdupq_n_u8(64);
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    uint8x16_t idx = vld1q_u8(reinterpret_cast<const std::uint8_t*>(x + i));
    uint8x16_t r = vqtbl4q_u8(q0, idx);
    idx = vsubq_u8(idx, step);
    r = vqtbx4q_u8(r, q1, idx);
    idx = vsubq_u8(idx, step);
    r = vqtbx4q_u8(r, q2, idx);
    idx = vsubq_u8(idx, step);
    r = vqtbx4q_u8(r, q3, idx);
    vst1q_u8(reinterpret_cast<std::uint8_t*>(y + i), r);
  }
  for (; i < n; ++i) y[i] = table[static_cast<std::uint8_t>(x[i])];
}

}  // namespace statiq::kernels::arm::neon

#endif  // STATIQ_KERNELS_ARM_NEON
