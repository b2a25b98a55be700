// statiq/kernels/arm/neon/dequantize.hpp — DequantizeLinear 8 codes at a time on AArch64 NEON, as
// arith::dequantize and kernels/x86/dequantize.hpp: (q - zero_point) converted to float32 (exact:
// |q - zero_point| < 2^24), times the scale, one IEEE multiply (FMUL), every float the scalar one's.
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_ARM_NEON)  // else this header is empty

#include <arm_neon.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace statiq::kernels::arm::neon {

template <class X>
void dequantize(const X* x, int n, float scale, std::int32_t zero_point, float* y) {
  static_assert(sizeof(X) == 1, "byte codes");
  const float32x4_t s = vdupq_n_f32(scale);
  const int32x4_t zp = vdupq_n_s32(zero_point);
  for (int i = 0; i < n; i += 8) {
    const int valid = n - i < 8 ? n - i : 8;
    std::uint8_t bytes[8]{};
    std::memcpy(bytes, x + i, std::size_t(valid));
    int16x8_t v;
    if constexpr (std::is_signed_v<X>) v = vmovl_s8(vreinterpret_s8_u8(vld1_u8(bytes)));
    else v = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(bytes)));
    float out[8];
    vst1q_f32(out, vmulq_f32(vcvtq_f32_s32(vsubq_s32(vmovl_s16(vget_low_s16(v)), zp)), s));
    vst1q_f32(out + 4, vmulq_f32(vcvtq_f32_s32(vsubq_s32(vmovl_s16(vget_high_s16(v)), zp)), s));
    std::memcpy(y + i, out, sizeof(float) * std::size_t(valid));
  }
}

}  // namespace statiq::kernels::arm::neon

#endif  // STATIQ_KERNELS_ARM_NEON
