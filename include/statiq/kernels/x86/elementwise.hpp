// statiq/kernels/x86/elementwise.hpp — Mul, Max, Min and Sub of two 8-bit tensors 16 elements at a
// time, bit for bit as their scalar definitions: arith::qlinear_mul (onnxruntime's QLinearMul) and
// arith::qdq_elementwise (DQ, DQ -> op -> Q). The second input is a tensor of the same size or one
// value per channel (`channels` > 0: the squeeze-excite gate). Rounding is encoded in each
// instruction (no dependence on MXCSR); the library builds with -ffp-contract=off and the
// intrinsics below are separate multiplies and adds, as the scalar rules are.
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_AVX512_VNNI)  // else this header is empty

#include <immintrin.h>

#include <cstdint>
#include <type_traits>

#include "statiq/arith/qdq_elementwise.hpp"
#include "statiq/arith/qlinear_mul.hpp"

namespace statiq::kernels::x86 {

namespace detail {
template <class X>
inline __m512i load_codes(const X* p, __mmask16 m) {
  static_assert(sizeof(X) == 1);
  const __m128i v = _mm_maskz_loadu_epi8(m, p);
  if constexpr (std::is_signed_v<X>) return _mm512_cvtepi8_epi32(v);
  else return _mm512_cvtepu8_epi32(v);
}

template <class Y>
inline void store_codes(Y* p, __mmask16 m, __m512i v) {
  static_assert(sizeof(Y) == 1);
  _mm_mask_storeu_epi8(p, m, _mm512_cvtepi32_epi8(v));  // v is within [lo, hi]: the low byte is the code
}

// Runs `op` (16 codes of a, 16 of b -> 16 saturated codes) over the tensor: flat, or pixel by pixel
// with the second input's channel values.
template <class X, class Y, class Op>
inline void for_each_block(const X* a, const X* b, int n, int channels, Y* y, Op op) {
  if (channels <= 0) {
    for (int i = 0; i < n; i += 16) {
      const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - i)) - 1u);
      store_codes(y + i, m, op(load_codes(a + i, m), load_codes(b + i, m)));
    }
    return;
  }
  for (int p = 0; p < n; p += channels)
    for (int c = 0; c < channels; c += 16) {
      const __mmask16 m = channels - c >= 16 ? __mmask16(0xffff) : __mmask16((1u << (channels - c)) - 1u);
      store_codes(y + p + c, m, op(load_codes(a + p + c, m), load_codes(b + c, m)));
    }
}
}  // namespace detail

// QLinearMul: (a - a_zp) * (b - b_zp), exact in int32 and float32, times the ratio, plus the output
// zero point in float, rounded half to even; beyond int32 the lowest code (cvtps2dq's "integer
// indefinite", which the scalar rule spells out).
template <class X, class Y>
void qlinear_mul(const X* a, const X* b, int n, int channels, const arith::qlinear_mul_params& p, Y* y) {
  const __m512i azp = _mm512_set1_epi32(p.a_zero_point), bzp = _mm512_set1_epi32(p.b_zero_point);
  const __m512 ratio = _mm512_set1_ps(p.ratio), yzp = _mm512_set1_ps(static_cast<float>(p.y_zero_point));
  const __m512i lo = _mm512_set1_epi32(p.lo), hi = _mm512_set1_epi32(p.hi);
  detail::for_each_block(a, b, n, channels, y, [&](__m512i va, __m512i vb) {
    const __m512i product = _mm512_mullo_epi32(_mm512_sub_epi32(va, azp), _mm512_sub_epi32(vb, bzp));
    const __m512 r = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(product), ratio), yzp);
    const __m512i q = _mm512_cvt_roundps_epi32(r, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return _mm512_min_epi32(_mm512_max_epi32(q, lo), hi);  // INT32_MIN (out of range) -> lo
  });
}

// Max / Min / Sub as onnxruntime's QDQ form: each input dequantized (one float32 multiply), one float
// op, then QuantizeLinear (an IEEE division, clamped to [lo - zp, hi - zp], rounded half to even,
// + zp). max_ps/min_ps differ from std::max/min only on (+0, -0), which quantize to the same code.
template <arith::qdq_binary Op, class X, class Y>
void qdq_elementwise(const X* a, const X* b, int n, int channels, const arith::qdq_elementwise_params& p, Y* y) {
  const __m512i azp = _mm512_set1_epi32(p.a_zero_point), bzp = _mm512_set1_epi32(p.b_zero_point);
  const __m512 as = _mm512_set1_ps(p.a_scale), bs = _mm512_set1_ps(p.b_scale), ys = _mm512_set1_ps(p.y_scale);
  const __m512 flo = _mm512_set1_ps(static_cast<float>(p.lo - p.y_zero_point));
  const __m512 fhi = _mm512_set1_ps(static_cast<float>(p.hi - p.y_zero_point));
  const __m512i yzp = _mm512_set1_epi32(p.y_zero_point);
  detail::for_each_block(a, b, n, channels, y, [&](__m512i va, __m512i vb) {
    const __m512 fa = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(va, azp)), as);
    const __m512 fb = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(vb, bzp)), bs);
    __m512 r;
    if constexpr (Op == arith::qdq_binary::max) r = _mm512_max_ps(fa, fb);
    else if constexpr (Op == arith::qdq_binary::min) r = _mm512_min_ps(fa, fb);
    else r = _mm512_sub_ps(fa, fb);
    const __m512 x = _mm512_min_ps(_mm512_max_ps(_mm512_div_ps(r, ys), flo), fhi);
    const __m512i q = _mm512_cvt_roundps_epi32(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return _mm512_add_epi32(q, yzp);
  });
}

}  // namespace statiq::kernels::x86

#endif  // STATIQ_KERNELS_AVX512_VNNI
