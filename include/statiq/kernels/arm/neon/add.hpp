// statiq/kernels/arm/neon/add.hpp — Add 8 elements at a time on AArch64 NEON, bit for bit as
// arith's scalar Profile::add (the same operations as kernels/x86/add.hpp). QLinearAdd: all three of
// MLAS's formulas (arith::qlinear::add_kernel), chosen per call from the add parameters, in float32
// as the scalar code computes them: FMLA is one fused multiply-add (std::fma, one rounding), the
// unfused formulas separate FMUL/FADD in the scalar order (the library builds with
// -ffp-contract=off), FDIV the IEEE division, FCVTNS rounds half to even; clamped in float before
// converting. The other profiles: add_by_terms, each input's int32 term per code, then the profile's
// NEON output stage (kernels/arm/neon/requantize.hpp).
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_ARM_NEON)  // else this header is empty

#include <arm_neon.h>

#include <cstdint>
#include <type_traits>

#include "statiq/arith/qlinear.hpp"
#include "statiq/kernels/arm/neon/elementwise.hpp"
#include "statiq/kernels/arm/neon/requantize.hpp"

namespace statiq::kernels::arm::neon {

// arith::qlinear::add for every add_kernel formula. Rounding then saturating equals clamping in
// float then rounding (the bounds are integers, rounding is monotonic), and nothing beyond int32
// reaches FCVTNS. The portable formula clamps to [lo - zp, hi - zp] and adds the zero point in
// float before rounding, as MlasQLinearAddKernelRawHelper does.
template <class X, class X2, class Y>
void add_qlinear(const X* a, const X2* b, int n, const arith::qlinear::add_params& p, Y* y) {
  static_assert(sizeof(X) == 1 && sizeof(X2) == 1 && sizeof(Y) == 1);
  using kind = arith::qlinear::add_kernel;
  if (p.kernel == kind::x86_fma || p.kernel == kind::x86_sse2) {
    const float32x4_t ra = vdupq_n_f32(p.a_ratio), rb = vdupq_n_f32(p.b_ratio), fixed = vdupq_n_f32(p.fixed_part);
    const float32x4_t lo = vdupq_n_f32(static_cast<float>(p.lo)), hi = vdupq_n_f32(static_cast<float>(p.hi));
    const auto round = [&](float32x4_t r) { return vcvtnq_s32_f32(vminq_f32(vmaxq_f32(r, lo), hi)); };
    if (p.kernel == kind::x86_fma) {
      // fma(a, ra, fma(b, rb, fixed)): vfmaq_f32(x, y, z) = x + y * z rounded once.
      detail::for_each_block(a, b, n, 0, y, [&](int32x4_t va, int32x4_t vb) {
        return round(vfmaq_f32(vfmaq_f32(fixed, vcvtq_f32_s32(vb), rb), vcvtq_f32_s32(va), ra));
      });
    } else {
      // (fixed + a * ra) + b * rb, each operation rounded.
      detail::for_each_block(a, b, n, 0, y, [&](int32x4_t va, int32x4_t vb) {
        const float32x4_t r = vaddq_f32(vaddq_f32(fixed, vmulq_f32(vcvtq_f32_s32(va), ra)), vmulq_f32(vcvtq_f32_s32(vb), rb));
        return round(r);
      });
    }
    return;
  }
  const int32x4_t azp = vdupq_n_s32(p.a_zero_point), bzp = vdupq_n_s32(p.b_zero_point);
  const float32x4_t as = vdupq_n_f32(p.a_scale), bs = vdupq_n_f32(p.b_scale), ys = vdupq_n_f32(p.y_scale);
  const float32x4_t lo = vdupq_n_f32(static_cast<float>(p.lo - p.y_zero_point));
  const float32x4_t hi = vdupq_n_f32(static_cast<float>(p.hi - p.y_zero_point));
  const float32x4_t yzp = vdupq_n_f32(static_cast<float>(p.y_zero_point));
  // ((sa * (a - za)) + (sb * (b - zb))) / sc clamped, + zc, rounded. FMAX/FMIN differ from the
  // scalar clamp only on a zero's sign, which the sum with zc and the rounding do not see.
  detail::for_each_block(a, b, n, 0, y, [&](int32x4_t va, int32x4_t vb) {
    const float32x4_t fa = vmulq_f32(as, vcvtq_f32_s32(vsubq_s32(va, azp)));
    const float32x4_t fb = vmulq_f32(bs, vcvtq_f32_s32(vsubq_s32(vb, bzp)));
    const float32x4_t c = vminq_f32(vmaxq_f32(vdivq_f32(vaddq_f32(fa, fb), ys), lo), hi);
    return vcvtnq_s32_f32(vaddq_f32(c, yzp));
  });
}

// The byte of a code as a table index: uint8 codes as they are, int8 codes + 128.
template <class X>
constexpr int code_index(std::int32_t q) {
  return std::is_signed_v<X> ? q + 128 : q;
}

// An Add whose inputs each contribute an int32 that depends on their code only, and whose sum goes
// through an output stage: y[i] = stage(term_a(a[i]) + term_b(b[i])), as x86::add_by_terms. The
// terms take 4 codes as int32 lanes (past the end of the inputs the codes are 0: a valid table
// index) and return 4 int32 terms; the sums, 256 at a time, go to stage(sums, rows, columns, y) as
// rows of 16 (rows * 16 outputs, then one last row of columns < 16), the form of the output stages
// of kernels/arm/neon/requantize.hpp. Exact as long as the sums fit int32 (the caller checks).
template <class X, class X2, class Y, class TermA, class TermB, class Stage>
void add_by_terms(const X* a, const X2* b, int n, TermA&& term_a, TermB&& term_b, Stage&& stage, Y* y) {
  static_assert(sizeof(X) == 1 && sizeof(X2) == 1 && sizeof(Y) == 1);
  alignas(16) std::int32_t sums[256];
  for (int i0 = 0; i0 < n; i0 += 256) {
    const int count = n - i0 < 256 ? n - i0 : 256;
    for (int i = 0; i < count; i += 8) {
      const detail::codes8 ca = detail::load_codes(a + i0 + i, count - i), cb = detail::load_codes(b + i0 + i, count - i);
      vst1q_s32(sums + i, vaddq_s32(term_a(ca.lo), term_b(cb.lo)));
      vst1q_s32(sums + i + 4, vaddq_s32(term_a(ca.hi), term_b(cb.hi)));
    }
    const int rows = count / 16, rest = count % 16;
    if (rows > 0) stage(static_cast<const std::int32_t*>(sums), rows, 16, y + i0);
    if (rest > 0) stage(static_cast<const std::int32_t*>(sums) + rows * 16, 1, rest, y + i0 + rows * 16);
  }
}

// The term of a code looked up in a 256-entry table indexed by code_index<X>. A scalar gather (one
// LD1 lane load a code): TBL reads bytes, so an int32 table would take 16 TBL/TBX (4 per byte of
// the int32, 64-byte quarters) and 8 ZIPs per 16 codes, with the 1 KiB table reloaded into
// registers for every vector (it does not fit the 32 of them), no fewer instructions.
template <class X>
inline auto table_term(const std::int32_t* table) {
  return [table](int32x4_t q) {
    const std::int32_t* t = table + (std::is_signed_v<X> ? 128 : 0);
    int32x4_t r = vdupq_n_s32(0);
    r = vld1q_lane_s32(t + vgetq_lane_s32(q, 0), r, 0);
    r = vld1q_lane_s32(t + vgetq_lane_s32(q, 1), r, 1);
    r = vld1q_lane_s32(t + vgetq_lane_s32(q, 2), r, 2);
    return vld1q_lane_s32(t + vgetq_lane_s32(q, 3), r, 3);
  };
}

// The term q * 2^shift (an exact alignment shift; the caller checks that it fits).
inline auto shift_term(int shift) {
  return [count = vdupq_n_s32(shift)](int32x4_t q) { return vshlq_s32(q, count); };
}

// Gemmini's MVIN_SCALE: RNE(float(q) * scale) saturated to int8 (the clamp in float first: the
// bounds are integers and rounding is monotonic).
inline auto mvin_scale_term(float scale) {
  return [s = vdupq_n_f32(scale)](int32x4_t q) {
    const float32x4_t v = vmulq_f32(vcvtq_f32_s32(q), s);
    return vcvtnq_s32_f32(vminq_f32(vmaxq_f32(v, vdupq_n_f32(-128.0f)), vdupq_n_f32(127.0f)));
  };
}

}  // namespace statiq::kernels::arm::neon

#endif  // STATIQ_KERNELS_ARM_NEON
