// statiq/kernels/x86/pooling.hpp — AVX-512 MaxPool (int8, uint8, int32 accumulators), AveragePool's
// window sums and GlobalAveragePool's sums, channels in vector lanes. Integer max and sums: equal to
// kernels/reference/pooling.hpp by construction, and tested so (tests/kernels/fast_kernels_test.cpp).
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_AVX512_VNNI)  // else this header is empty

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "statiq/kernels/reference/pooling.hpp"

namespace statiq::kernels::x86 {

namespace detail {

// Lanes of one vector of T, a masked load, max and store.
template <class T>
struct lanes;
template <>
struct lanes<std::int32_t> {
  static constexpr int n = 16;
  using mask = __mmask16;
  static mask tail(int k) { return k >= 16 ? mask(0xffff) : mask((1u << k) - 1u); }
  static __m512i load(mask m, const std::int32_t* p) { return _mm512_maskz_loadu_epi32(m, p); }
  static void store(mask m, std::int32_t* p, __m512i v) { _mm512_mask_storeu_epi32(p, m, v); }
  // The masked form: GCC 12 warns (-Wmaybe-uninitialized) on the unmasked one.
  static __m512i max(__m512i a, __m512i b) { return _mm512_maskz_max_epi32(0xffff, a, b); }
};
// int8 and uint8: 64 lanes, the same moves; only the comparison differs.
template <class B>
struct byte_lanes {
  static constexpr int n = 64;
  using mask = __mmask64;
  static mask tail(int k) { return k >= 64 ? ~mask{0} : (mask{1} << k) - 1; }
  static __m512i load(mask m, const B* p) { return _mm512_maskz_loadu_epi8(m, p); }
  static void store(mask m, B* p, __m512i v) { _mm512_mask_storeu_epi8(p, m, v); }
  static __m512i max(__m512i a, __m512i b) {
    if constexpr (std::is_signed_v<B>) return _mm512_max_epi8(a, b);
    else return _mm512_max_epu8(a, b);
  }
};
template <>
struct lanes<std::int8_t> : byte_lanes<std::int8_t> {};
template <>
struct lanes<std::uint8_t> : byte_lanes<std::uint8_t> {};

// 16 bytes widened to int32 lanes, minus the zero point.
template <class X>
inline __m512i widen(__mmask16 m, const X* p, __m512i zp) {
  const __m128i b = _mm_maskz_loadu_epi8(m, p);
  if constexpr (std::is_signed_v<X>) return _mm512_sub_epi32(_mm512_maskz_cvtepi8_epi32(m, b), zp);
  else return _mm512_sub_epi32(_mm512_maskz_cvtepu8_epi32(m, b), zp);
}

}  // namespace detail

// y[oh][ow][c] = max of x over the window (padded positions never win), as reference::max_pool.
template <class T>
void max_pool(Shape in, Shape out, Kernel kernel, Stride strides, Pads pads, const T* x, T* y) {
  using L = detail::lanes<T>;
  const std::size_t channels = std::size_t(in.c);
  for (int oh = 0; oh < out.h; ++oh) {
    const auto rows = reference::detail::window_span(oh, strides.h, pads.top, kernel.h, in.h);
    for (int ow = 0; ow < out.w; ++ow) {
      const auto cols = reference::detail::window_span(ow, strides.w, pads.left, kernel.w, in.w);
      T* dst = y + reference::detail::pixel_offset(oh, ow, out.w, channels);
      for (int c = 0; c < in.c; c += L::n) {
        const auto m = L::tail(in.c - c);
        __m512i v = L::load(m, x + reference::detail::pixel_offset(rows.begin, cols.begin, in.w, channels) + c);
        for (int ih = rows.begin; ih < rows.end; ++ih)
          for (int iw = cols.begin; iw < cols.end; ++iw)
            v = L::max(v, L::load(m, x + reference::detail::pixel_offset(ih, iw, in.w, channels) + c));
        L::store(m, dst + c, v);
      }
    }
  }
}

// sum[oh][ow][c] = sum over the window's valid positions of (x - zero_point), as reference::window_sum.
template <class X>
void window_sum(Shape in, Shape out, Kernel kernel, Stride strides, Pads pads, const X* x, std::int32_t zero_point,
                std::int32_t* sum) {
  const std::size_t channels = std::size_t(in.c);
  const __m512i zp = _mm512_set1_epi32(zero_point);
  for (int oh = 0; oh < out.h; ++oh) {
    const auto rows = reference::detail::window_span(oh, strides.h, pads.top, kernel.h, in.h);
    for (int ow = 0; ow < out.w; ++ow) {
      const auto cols = reference::detail::window_span(ow, strides.w, pads.left, kernel.w, in.w);
      std::int32_t* dst = sum + reference::detail::pixel_offset(oh, ow, out.w, channels);
      for (int c = 0; c < in.c; c += 16) {
        const __mmask16 m = in.c - c >= 16 ? __mmask16(0xffff) : __mmask16((1u << (in.c - c)) - 1u);
        __m512i acc = _mm512_setzero_si512();
        for (int ih = rows.begin; ih < rows.end; ++ih)
          for (int iw = cols.begin; iw < cols.end; ++iw)
            acc = _mm512_add_epi32(acc, detail::widen(m, x + reference::detail::pixel_offset(ih, iw, in.w, channels) + c, zp));
        _mm512_mask_storeu_epi32(dst + c, m, acc);
      }
    }
  }
}

// sum[c] = sum over all pixels of (x - zero_point), as reference::global_sum.
template <class X>
void global_sum(Shape in, const X* x, std::int32_t zero_point, std::int32_t* sum) {
  const std::size_t channels = std::size_t(in.c), pixels = std::size_t(in.h) * std::size_t(in.w);
  const __m512i zp = _mm512_set1_epi32(zero_point);
  for (int c = 0; c < in.c; c += 16) {
    const __mmask16 m = in.c - c >= 16 ? __mmask16(0xffff) : __mmask16((1u << (in.c - c)) - 1u);
    __m512i acc = _mm512_setzero_si512();
    for (std::size_t p = 0; p < pixels; ++p) acc = _mm512_add_epi32(acc, detail::widen(m, x + p * channels + c, zp));
    _mm512_mask_storeu_epi32(sum + c, m, acc);
  }
}

}  // namespace statiq::kernels::x86

#endif  // STATIQ_KERNELS_AVX512_VNNI
