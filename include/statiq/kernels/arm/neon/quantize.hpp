// statiq/kernels/arm/neon/quantize.hpp — QuantizeLinear 4 floats at a time on AArch64 NEON, the x86
// kernels' steps (kernels/x86/quantize.hpp): x / scale (FDIV, the IEEE division of the scalar rule),
// rounded half to even (FRINTN), + zero point in float, saturated to [lo, hi], NaN to the zero point.
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_ARM_NEON)  // else this header is empty

#include <arm_neon.h>

#include <cstdint>
#include <cstring>

namespace statiq::kernels::arm::neon {

template <class Y>
void quantize_half_even(const float* x, int n, float scale, std::int32_t zero_point, std::int32_t lo, std::int32_t hi,
                        Y* y) {
  static_assert(sizeof(Y) == 1);
  const float32x4_t s = vdupq_n_f32(scale), zp = vdupq_n_f32(static_cast<float>(zero_point));
  const float32x4_t flo = vdupq_n_f32(static_cast<float>(lo)), fhi = vdupq_n_f32(static_cast<float>(hi));
  const int32x4_t izp = vdupq_n_s32(zero_point);
  for (int i = 0; i < n; i += 4) {
    const int valid = n - i < 4 ? n - i : 4;
    float in[4]{};
    std::memcpy(in, x + i, sizeof(float) * std::size_t(valid));
    const float32x4_t v = vld1q_f32(in);
    float32x4_t q = vrndnq_f32(vdivq_f32(v, s));
    q = vminq_f32(vmaxq_f32(vaddq_f32(q, zp), flo), fhi);  // integral and within [lo, hi]: FCVTZS is exact
    // NaN has no integer: the zero point, as the scalar rule says.
    const int32x4_t r = vbslq_s32(vceqq_f32(v, v), vcvtq_s32_f32(q), izp);
    std::int32_t out[4];
    vst1q_s32(out, r);
    for (int k = 0; k < valid; ++k) y[i + k] = static_cast<Y>(out[k]);
  }
}

}  // namespace statiq::kernels::arm::neon

#endif  // STATIQ_KERNELS_ARM_NEON
