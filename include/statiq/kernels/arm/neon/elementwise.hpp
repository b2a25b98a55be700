// statiq/kernels/arm/neon/elementwise.hpp — Mul, Max, Min and Sub of two 8-bit tensors 8 elements at
// a time on AArch64 NEON, bit for bit as their scalar definitions: arith::qlinear_mul (onnxruntime's
// QLinearMul on x86, which is what the models are checked against) and arith::qdq_elementwise (DQ, DQ
// -> op -> Q); the same operations as kernels/x86/elementwise.hpp. FCVTNS rounds half to even like
// cvtps2dq but saturates beyond the int32 range where cvtps2dq gives INT32_MIN, so QLinearMul's
// out-of-range results are selected to the lowest code explicitly. FDIV is the IEEE division;
// separate multiplies and adds (the library builds with -ffp-contract=off), as the scalar rules are.
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_ARM_NEON)  // else this header is empty

#include <arm_neon.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "statiq/arith/qdq_elementwise.hpp"
#include "statiq/arith/qlinear_mul.hpp"

namespace statiq::kernels::arm::neon {

namespace detail {
struct codes8 {  // 8 codes as int32, lanes 0..3 and 4..7
  int32x4_t lo, hi;
};

// 8 codes widened to int32; `count` < 8 reads only that many bytes (the tail).
template <class X>
inline codes8 load_codes(const X* p, int count) {
  static_assert(sizeof(X) == 1);
  uint8x8_t raw;
  if (count >= 8) {
    raw = vld1_u8(reinterpret_cast<const std::uint8_t*>(p));
  } else {
    std::uint8_t bytes[8]{};
    std::memcpy(bytes, p, std::size_t(count));
    raw = vld1_u8(bytes);
  }
  int16x8_t v;
  if constexpr (std::is_signed_v<X>) v = vmovl_s8(vreinterpret_s8_u8(raw));
  else v = vreinterpretq_s16_u16(vmovl_u8(raw));
  return {vmovl_s16(vget_low_s16(v)), vmovl_s16(vget_high_s16(v))};
}

// v holds 8 codes within [lo, hi] (so each low byte is its code); writes `count` of them.
template <class Y>
inline void store_codes(Y* p, int count, codes8 v) {
  static_assert(sizeof(Y) == 1);
  const uint8x8_t packed = vreinterpret_u8_s8(vmovn_s16(vcombine_s16(vmovn_s32(v.lo), vmovn_s32(v.hi))));
  if (count >= 8) {
    vst1_u8(reinterpret_cast<std::uint8_t*>(p), packed);
  } else {
    std::uint8_t bytes[8];
    vst1_u8(bytes, packed);
    std::memcpy(p, bytes, std::size_t(count));
  }
}

// Runs `op` (4 codes of a, 4 of b -> 4 codes in [lo, hi]) over the tensor, 8 at a time: flat, or
// pixel by pixel with the second input's channel values (`channels` > 0). The inputs may differ in
// signedness (Add's may).
template <class X, class X2, class Y, class Op>
inline void for_each_block(const X* a, const X2* b, int n, int channels, Y* y, Op op) {
  const auto block = [&](const X* pa, const X2* pb, Y* py, int m) {
    const codes8 va = load_codes(pa, m), vb = load_codes(pb, m);
    store_codes(py, m, codes8{op(va.lo, vb.lo), op(va.hi, vb.hi)});
  };
  if (channels <= 0) {
    for (int i = 0; i < n; i += 8) block(a + i, b + i, y + i, n - i);
    return;
  }
  for (int p = 0; p < n; p += channels)
    for (int c = 0; c < channels; c += 8) block(a + p + c, b + c, y + p + c, channels - c);
}
}  // namespace detail

// QLinearMul: (a - a_zp) * (b - b_zp), exact in int32 and float32, times the ratio, plus the output
// zero point in float, rounded half to even; outside (-2^31, 2^31) the lowest code (the scalar
// rule's "integer indefinite").
template <class X, class Y>
void qlinear_mul(const X* a, const X* b, int n, int channels, const arith::qlinear_mul_params& p, Y* y) {
  const int32x4_t azp = vdupq_n_s32(p.a_zero_point), bzp = vdupq_n_s32(p.b_zero_point);
  const float32x4_t ratio = vdupq_n_f32(p.ratio), yzp = vdupq_n_f32(static_cast<float>(p.y_zero_point));
  const float32x4_t limit = vdupq_n_f32(2147483648.0f);
  const int32x4_t lo = vdupq_n_s32(p.lo), hi = vdupq_n_s32(p.hi);
  detail::for_each_block(a, b, n, channels, y, [&](int32x4_t va, int32x4_t vb) {
    const int32x4_t product = vmulq_s32(vsubq_s32(va, azp), vsubq_s32(vb, bzp));
    const float32x4_t r = vaddq_f32(vmulq_f32(vcvtq_f32_s32(product), ratio), yzp);
    const uint32x4_t in_range = vcaltq_f32(r, limit);  // |r| < 2^31
    const int32x4_t q = vminq_s32(vmaxq_s32(vcvtnq_s32_f32(r), lo), hi);
    return vbslq_s32(in_range, q, lo);
  });
}

// Max / Min / Sub as onnxruntime's QDQ form: each input dequantized (one float32 multiply), one float
// op, then QuantizeLinear (an IEEE division, clamped to [lo - zp, hi - zp], rounded half to even,
// + zp). FMAX/FMIN differ from std::max/min only on (+0, -0), which quantize to the same code.
template <arith::qdq_binary Op, class X, class Y>
void qdq_elementwise(const X* a, const X* b, int n, int channels, const arith::qdq_elementwise_params& p, Y* y) {
  const int32x4_t azp = vdupq_n_s32(p.a_zero_point), bzp = vdupq_n_s32(p.b_zero_point);
  const float32x4_t as = vdupq_n_f32(p.a_scale), bs = vdupq_n_f32(p.b_scale), ys = vdupq_n_f32(p.y_scale);
  const float32x4_t flo = vdupq_n_f32(static_cast<float>(p.lo - p.y_zero_point));
  const float32x4_t fhi = vdupq_n_f32(static_cast<float>(p.hi - p.y_zero_point));
  const int32x4_t yzp = vdupq_n_s32(p.y_zero_point);
  detail::for_each_block(a, b, n, channels, y, [&](int32x4_t va, int32x4_t vb) {
    const float32x4_t fa = vmulq_f32(vcvtq_f32_s32(vsubq_s32(va, azp)), as);
    const float32x4_t fb = vmulq_f32(vcvtq_f32_s32(vsubq_s32(vb, bzp)), bs);
    float32x4_t r;
    if constexpr (Op == arith::qdq_binary::max) r = vmaxq_f32(fa, fb);
    else if constexpr (Op == arith::qdq_binary::min) r = vminq_f32(fa, fb);
    else r = vsubq_f32(fa, fb);
    const float32x4_t x = vminq_f32(vmaxq_f32(vdivq_f32(r, ys), flo), fhi);
    return vaddq_s32(vcvtnq_s32_f32(x), yzp);
  });
}

}  // namespace statiq::kernels::arm::neon

#endif  // STATIQ_KERNELS_ARM_NEON
