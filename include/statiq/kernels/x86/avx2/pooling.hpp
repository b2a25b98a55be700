// statiq/kernels/x86/avx2/pooling.hpp — AVX2 MaxPool (int8, uint8, int32 accumulators), AveragePool's
// window sums and GlobalAveragePool's sums, channels in vector lanes (32 bytes or 8 int32), the
// channels past the last whole vector in scalar code. Integer max and sums: equal to
// kernels/reference/pooling.hpp by construction, and tested so (tests/kernels/fast_kernels_test.cpp,
// kernels_fast_avx2_test).
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_AVX2)  // else this header is empty

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "statiq/kernels/reference/pooling.hpp"

namespace statiq::kernels::x86::avx2 {

namespace detail {

// Lanes of one vector of T, a load, max and store.
template <class T>
struct lanes;
template <>
struct lanes<std::int32_t> {
  static constexpr int n = 8;
  static __m256i max(__m256i a, __m256i b) { return _mm256_max_epi32(a, b); }
};
template <>
struct lanes<std::int8_t> {
  static constexpr int n = 32;
  static __m256i max(__m256i a, __m256i b) { return _mm256_max_epi8(a, b); }
};
template <>
struct lanes<std::uint8_t> {
  static constexpr int n = 32;
  static __m256i max(__m256i a, __m256i b) { return _mm256_max_epu8(a, b); }
};
template <class T>
inline __m256i load(const T* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
template <class T>
inline void store(T* p, __m256i v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }

// 8 bytes widened to int32 lanes, minus the zero point.
template <class X>
inline __m256i widen(const X* p, __m256i zp) {
  const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  if constexpr (std::is_signed_v<X>) return _mm256_sub_epi32(_mm256_cvtepi8_epi32(b), zp);
  else return _mm256_sub_epi32(_mm256_cvtepu8_epi32(b), zp);
}

}  // namespace detail

// y[oh][ow][c] = max of x over the window (padded positions never win), as reference::max_pool.
template <class T>
void max_pool(Shape in, Shape out, Kernel kernel, Stride strides, Pads pads, const T* x, T* y) {
  using L = detail::lanes<T>;
  const std::size_t channels = std::size_t(in.c);
  const int whole = in.c / L::n * L::n;
  for (int oh = 0; oh < out.h; ++oh) {
    const auto rows = reference::detail::window_span(oh, strides.h, pads.top, kernel.h, in.h);
    for (int ow = 0; ow < out.w; ++ow) {
      const auto cols = reference::detail::window_span(ow, strides.w, pads.left, kernel.w, in.w);
      T* dst = y + reference::detail::pixel_offset(oh, ow, out.w, channels);
      const T* first = x + reference::detail::pixel_offset(rows.begin, cols.begin, in.w, channels);
      for (int c = 0; c < whole; c += L::n) {
        __m256i v = detail::load(first + c);
        for (int ih = rows.begin; ih < rows.end; ++ih)
          for (int iw = cols.begin; iw < cols.end; ++iw)
            v = L::max(v, detail::load(x + reference::detail::pixel_offset(ih, iw, in.w, channels) + c));
        detail::store(dst + c, v);
      }
      for (int c = whole; c < in.c; ++c) {
        T v = first[c];
        for (int ih = rows.begin; ih < rows.end; ++ih)
          for (int iw = cols.begin; iw < cols.end; ++iw) {
            const T e = x[reference::detail::pixel_offset(ih, iw, in.w, channels) + std::size_t(c)];
            v = e > v ? e : v;
          }
        dst[c] = v;
      }
    }
  }
}

// sum[oh][ow][c] = sum over the window's valid positions of (x - zero_point), as reference::window_sum.
template <class X>
void window_sum(Shape in, Shape out, Kernel kernel, Stride strides, Pads pads, const X* x, std::int32_t zero_point,
                std::int32_t* sum) {
  const std::size_t channels = std::size_t(in.c);
  const __m256i zp = _mm256_set1_epi32(zero_point);
  const int whole = in.c / 8 * 8;
  for (int oh = 0; oh < out.h; ++oh) {
    const auto rows = reference::detail::window_span(oh, strides.h, pads.top, kernel.h, in.h);
    for (int ow = 0; ow < out.w; ++ow) {
      const auto cols = reference::detail::window_span(ow, strides.w, pads.left, kernel.w, in.w);
      std::int32_t* dst = sum + reference::detail::pixel_offset(oh, ow, out.w, channels);
      for (int c = 0; c < whole; c += 8) {
        __m256i acc = _mm256_setzero_si256();
        for (int ih = rows.begin; ih < rows.end; ++ih)
          for (int iw = cols.begin; iw < cols.end; ++iw)
            acc = _mm256_add_epi32(acc, detail::widen(x + reference::detail::pixel_offset(ih, iw, in.w, channels) + c, zp));
        detail::store(dst + c, acc);
      }
      for (int c = whole; c < in.c; ++c) {
        std::uint32_t s = 0;  // mod 2^32, as the vector lanes
        for (int ih = rows.begin; ih < rows.end; ++ih)
          for (int iw = cols.begin; iw < cols.end; ++iw)
            s += std::uint32_t(std::int32_t{x[reference::detail::pixel_offset(ih, iw, in.w, channels) + std::size_t(c)]} -
                               zero_point);
        dst[c] = static_cast<std::int32_t>(s);
      }
    }
  }
}

// sum[c] = sum over all pixels of (x - zero_point), as reference::global_sum.
template <class X>
void global_sum(Shape in, const X* x, std::int32_t zero_point, std::int32_t* sum) {
  const std::size_t channels = std::size_t(in.c), pixels = std::size_t(in.h) * std::size_t(in.w);
  const __m256i zp = _mm256_set1_epi32(zero_point);
  const int whole = in.c / 8 * 8;
  for (int c = 0; c < whole; c += 8) {
    __m256i acc = _mm256_setzero_si256();
    for (std::size_t p = 0; p < pixels; ++p) acc = _mm256_add_epi32(acc, detail::widen(x + p * channels + c, zp));
    detail::store(sum + c, acc);
  }
  for (int c = whole; c < in.c; ++c) {
    std::uint32_t s = 0;
    for (std::size_t p = 0; p < pixels; ++p) s += std::uint32_t(std::int32_t{x[p * channels + std::size_t(c)]} - zero_point);
    sum[c] = static_cast<std::int32_t>(s);
  }
}

}  // namespace statiq::kernels::x86::avx2

#endif  // STATIQ_KERNELS_AVX2
