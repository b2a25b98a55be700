// statiq/kernels/arm/requantize.hpp — the TFLite / TFLM / CMSIS-NN output stage (double rounding:
// gemmlowp's SaturatingRoundingDoublingHighMul then RoundingDivideByPOT, + zero point, clamp) for a
// Cortex-M: one SMULL-based high multiply, the rounding in 32 bits, the zero point added by QADD.
// Equal to arith::tflite's requantize bit for bit (tests/device/arm_kernels_test.cpp, under QEMU).
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_ARM_DSP)  // else this header is empty

#include <arm_acle.h>

#include <cstddef>
#include <cstdint>
#include <limits>

namespace statiq::kernels::arm {

// gemmlowp's SRDHM: (a*b + nudge) / 2^31 truncated, nudge 2^30 (1 - 2^30 for a negative product),
// which is floor((a*b + 2^30) / 2^31) for either sign (a truncated negative quotient is the floor of
// the numerator plus 2^31 - 1); INT_MIN * INT_MIN saturates.
inline std::int32_t saturating_rounding_doubling_high_mul(std::int32_t a, std::int32_t b) {
  if (a == b && a == std::numeric_limits<std::int32_t>::min()) return std::numeric_limits<std::int32_t>::max();
  const std::int64_t ab = std::int64_t{a} * std::int64_t{b};
  return static_cast<std::int32_t>((ab + (std::int64_t{1} << 30)) >> 31);
}

// y[p * channels + c] = clamp(MultiplyByQuantizedMultiplier(acc[p * ld + c], multiplier[c], shift[c])
// + zero_point, lo, hi) for the double-rounding profile; `channel` holds {multiplier, shift} pairs
// (arith::tflite's channel_params).
template <class Channel, class Y>
void requantize_tflite(const std::int32_t* acc, std::size_t ld, int pixels, int channels, const Channel* channel,
                       std::int32_t zero_point, std::int32_t lo, std::int32_t hi, Y* y) {
  for (int c = 0; c < channels; ++c) {
    const std::int32_t multiplier = channel[c].multiplier;
    const int shift = channel[c].shift;
    const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;  // right in [0, 31]
    // RoundingDivideByPOT(x, right): x >> right, plus one where the remainder exceeds half (half
    // rounds away from zero: the threshold is one higher for a negative x).
    const std::uint32_t mask = right == 0 ? 0u : (std::uint32_t{1} << right) - 1u;
    const auto half = static_cast<std::int32_t>(mask >> 1);
    const std::int32_t* a = acc + c;
    Y* out = y + c;
    for (int p = 0; p < pixels; ++p, a += ld, out += channels) {
      // x * 2^left in 32 bits, wrapping as TFLite's int32 multiply does on every target.
      const auto shifted = static_cast<std::int32_t>(left >= 32 ? 0u : std::uint32_t(*a) << left);
      const std::int32_t h = saturating_rounding_doubling_high_mul(shifted, multiplier);
      const auto remainder = static_cast<std::int32_t>(std::uint32_t(h) & mask);
      const std::int32_t r = (h >> right) + (remainder > half + (h < 0 ? 1 : 0) ? 1 : 0);
      const std::int32_t v = __qadd(r, zero_point);  // saturates where r + zp leaves int32: clamped anyway
      *out = static_cast<Y>(v < lo ? lo : v > hi ? hi : v);
    }
  }
}

}  // namespace statiq::kernels::arm

#endif  // STATIQ_KERNELS_ARM_DSP
