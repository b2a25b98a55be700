// statiq/kernels/x86/conv2d.hpp — the AVX-512 VNNI convolution (group 1; Dense is its 1x1 case):
// u8 x s8 dot products (vpdpbusd) on weights stored oc16_k4, register-blocked, the accumulators of
// a tile handed to an epilogue (requantization, or a store for a fused pool). Equal to
// kernels/reference/conv2d.hpp bit for bit (tests/kernels/fast_kernels_test.cpp).
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_AVX512_VNNI)  // else this header is empty

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "statiq/core/weight_layout.hpp"
#include "statiq/kernels/reference/conv2d.hpp"

namespace statiq::kernels::x86 {

// Output pixels whose patches are gathered together; the micro-kernels take 6 or 12 of them.
inline constexpr int conv_pixel_block = 12;

// Pixels of a block for this convolution (fewer when the output has fewer).
constexpr int conv_block_pixels(const reference::Conv2DGeometry& g) {
  const int pixels = g.out.h * g.out.w;
  return pixels < conv_pixel_block ? pixels : conv_pixel_block;
}

// int32 words of scratch: the per-channel constant (bias and zero-point terms), one row of
// accumulators per pixel of a block, and the block's gathered input patches.
constexpr std::size_t conv2d_scratch_words(const reference::Conv2DGeometry& g, const WeightLayout& w) {
  const std::size_t rows = w.padded_rows(), cols = w.padded_cols(), block = std::size_t(conv_block_pixels(g));
  return rows + block * rows + block * cols / 4 + 16;  // + 64 bytes: the patches' copies overrun
}

namespace detail {

inline std::int32_t load_u32(const std::uint8_t* p) {
  std::int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// acc[p][q] = sum over k of patch[p][k] * w[block q][k], 16 channels a vector.
// Stores the first n (<= P) pixels' rows; the others repeat a pixel of the block.
template <int P, int Q>
inline void dot_tile(const std::uint8_t* const* patch, int n, int k4, const std::uint8_t* w, std::size_t block_stride,
                     std::int32_t* out, std::size_t ld) {
  __m512i acc[P][Q];
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int q = 0; q < Q; ++q) acc[p][q] = _mm512_setzero_si512();
  for (int k = 0; k < k4; ++k) {
    __m512i wv[Q];
#pragma GCC unroll 4
    for (int q = 0; q < Q; ++q)
      wv[q] = _mm512_loadu_si512(w + std::size_t(q) * block_stride + std::size_t(k) * 64);
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) {
      const __m512i xb = _mm512_set1_epi32(load_u32(patch[p] + 4 * k));
#pragma GCC unroll 4
      for (int q = 0; q < Q; ++q) acc[p][q] = _mm512_dpbusd_epi32(acc[p][q], xb, wv[q]);
    }
  }
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p)
    if (p < n)
#pragma GCC unroll 4
      for (int q = 0; q < Q; ++q) _mm512_storeu_si512(out + std::size_t(p) * ld + std::size_t(q) * 16, acc[p][q]);
}

// Input bytes as vpdpbusd reads them (unsigned): int8 activations are flipped to x + 128.
template <class X>
inline constexpr std::uint8_t input_offset = std::is_signed_v<X> ? 128 : 0;

// dst[i] = src[i] ^ flip, or `fill` where src is null, for i < n, in 64-byte moves: the loads are
// masked (never past the input), the stores are not, so up to 63 bytes past dst + n are written
// (the patch buffer has that slack; the next piece overwrites them). Unmasked stores let the dot
// products' 4-byte loads be forwarded from the store buffer; a call to memcpy would cost more than
// these short copies.
inline void copy_or_fill(std::uint8_t* dst, const std::uint8_t* src, std::size_t n, std::uint8_t flip,
                         std::uint8_t fill) {
  const __m512i f = _mm512_set1_epi8(static_cast<char>(flip));
  const __m512i pad = _mm512_set1_epi8(static_cast<char>(fill));
  for (std::size_t i = 0; i < n; i += 64) {
    const std::size_t left = n - i;
    const __mmask64 m = left >= 64 ? ~__mmask64{0} : (__mmask64{1} << left) - 1;
    _mm512_storeu_si512(dst + i, src ? _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, src + i), f) : pad);
  }
}

// The receptive field of output pixel `pixel`, in OHWI reduction order, as unsigned bytes; padded
// positions hold the zero point (so they add nothing), the columns past the reduction zero.
template <class X>
inline void gather_patch(const reference::Conv2DGeometry& g, const X* x, std::uint8_t pad, int pixel,
                         std::size_t cols_padded, std::uint8_t* dst) {
  const int oh = pixel / g.out.w, ow = pixel % g.out.w;
  const int ih0 = oh * g.stride.h - g.pads.top, iw0 = ow * g.stride.w - g.pads.left;
  const std::size_t c = std::size_t(g.in.c);
  const std::size_t row_bytes = std::size_t(g.kernel.w) * c;
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(x);
  constexpr std::uint8_t flip = input_offset<X>;
  std::uint8_t* d = dst;
  const int iw_last = iw0 + (g.kernel.w - 1) * g.dilation.w;
  const bool whole_rows = g.dilation.w == 1 && iw0 >= 0 && iw_last < g.in.w;
  for (int kh = 0; kh < g.kernel.h; ++kh, d += row_bytes) {
    const int ih = ih0 + kh * g.dilation.h;
    if (ih < 0 || ih >= g.in.h) {
      copy_or_fill(d, nullptr, row_bytes, flip, pad);
      continue;
    }
    const std::uint8_t* row = bytes + std::size_t(ih) * std::size_t(g.in.w) * c;
    if (whole_rows) {
      copy_or_fill(d, row + std::size_t(iw0) * c, row_bytes, flip, pad);
      continue;
    }
    for (int kw = 0; kw < g.kernel.w; ++kw) {
      const int iw = iw0 + kw * g.dilation.w;
      copy_or_fill(d + std::size_t(kw) * c, iw < 0 || iw >= g.in.w ? nullptr : row + std::size_t(iw) * c, c, flip, pad);
    }
  }
  const std::size_t used = std::size_t(g.kernel.h) * row_bytes;
  if (cols_padded > used) copy_or_fill(dst + used, nullptr, cols_padded - used, 0, 0);
}

}  // namespace detail

// The convolution of g (groups == 1) over NHWC x, weights w stored as `layout` (oc16_k4, rows =
// out.c, cols = kernel.h * kernel.w * in.c). For each output pixel (row-major over out.h x out.w),
// calls epilogue(pixel, acc) where acc[oc] (oc < out.c) is the reference kernel's accumulator:
// bias[oc] + sum (x - x_zero_point) * (w - w_zero_point).
template <class X, class Epilogue>
void conv2d(const reference::Conv2DGeometry& g, const X* x, std::int32_t x_zero_point, const WeightLayout& layout,
            const std::uint8_t* w, std::int32_t w_zero_point, const std::int32_t* bias, std::int32_t* scratch,
            Epilogue&& epilogue) {
  static_assert(sizeof(X) == 1, "the VNNI convolution reads byte activations");
  const std::size_t rows = layout.padded_rows(), cols = layout.padded_cols();
  const int k4 = int(cols / 4);
  const int blocks = int(rows / 16);
  const std::size_t block_stride = cols * 16;
  std::int32_t* base = scratch;
  std::int32_t* tile = base + rows;
  const int block = conv_block_pixels(g);
  auto* patches = reinterpret_cast<std::uint8_t*>(tile + std::size_t(block) * rows);

  // base[oc] = bias[oc] - (x_zero_point + offset) * sum_k w[oc][k]: the dot products below read
  // x + offset as unsigned bytes, so sum (x - zp) * w = dot - (zp + offset) * sum w. Sums of the
  // weights by the same instruction against bytes of one; all of it wraps mod 2^32 like the
  // accumulators, so the result is exact whenever the true accumulator fits (checked at compile time).
  const std::int32_t shift = x_zero_point + detail::input_offset<X>;
  const __m512i ones = _mm512_set1_epi8(1);
  for (int b = 0; b < blocks; ++b) {
    __m512i s = _mm512_setzero_si512();
    const std::uint8_t* wb = w + std::size_t(b) * block_stride;
    for (int k = 0; k < k4; ++k) s = _mm512_dpbusd_epi32(s, ones, _mm512_loadu_si512(wb + std::size_t(k) * 64));
    const int first = b * 16;
    const int valid = g.out.c - first < 16 ? g.out.c - first : 16;
    const __mmask16 m = static_cast<__mmask16>((1u << valid) - 1u);
    const __m512i bv = bias ? _mm512_maskz_loadu_epi32(m, bias + first) : _mm512_setzero_si512();
    _mm512_storeu_si512(base + first, _mm512_sub_epi32(bv, _mm512_mullo_epi32(_mm512_set1_epi32(shift), s)));
  }

  const std::uint8_t pad = static_cast<std::uint8_t>(shift);
  const std::size_t reduction = std::size_t(g.kernel.h) * std::size_t(g.kernel.w) * std::size_t(g.in.c);
  const int pixels = g.out.h * g.out.w;
  // A 1x1, stride-1, unpadded convolution of unsigned input reads its patches in place.
  const bool in_place = !std::is_signed_v<X> && g.kernel.h == 1 && g.kernel.w == 1 && g.stride.h == 1 &&
                        g.stride.w == 1 && g.pads.top == 0 && g.pads.left == 0 && g.pads.bottom == 0 &&
                        g.pads.right == 0 && cols == std::size_t(g.in.c);
  for (int p0 = 0; p0 < pixels; p0 += block) {
    const int np = pixels - p0 < block ? pixels - p0 : block;
    const std::uint8_t* patch[conv_pixel_block];
    for (int p = 0; p < conv_pixel_block; ++p) {
      const int q = p < np ? p : np - 1;  // a short block repeats its last pixel, never stored
      if (in_place) {
        patch[p] = reinterpret_cast<const std::uint8_t*>(x) + std::size_t(p0 + q) * cols;
      } else {
        patch[p] = patches + std::size_t(q) * cols;
        if (p < np) detail::gather_patch(g, x, pad, p0 + p, cols, patches + std::size_t(p) * cols);
      }
    }
    int b = 0;
    for (; b + 4 <= blocks; b += 4)
      for (int s = 0; s < np; s += 6)
        detail::dot_tile<6, 4>(patch + s, np - s, k4, w + std::size_t(b) * block_stride, block_stride,
                               tile + std::size_t(s) * rows + std::size_t(b) * 16, rows);
    const int rest = blocks - b;
    const std::uint8_t* wr = w + std::size_t(b) * block_stride;
    std::int32_t* tr = tile + std::size_t(b) * 16;
    if (rest == 3) {
      for (int s = 0; s < np; s += 6)
        detail::dot_tile<6, 3>(patch + s, np - s, k4, wr, block_stride, tr + std::size_t(s) * rows, rows);
    } else if (rest == 2) {
      detail::dot_tile<12, 2>(patch, np, k4, wr, block_stride, tr, rows);
    } else if (rest == 1) {
      detail::dot_tile<12, 1>(patch, np, k4, wr, block_stride, tr, rows);
    }
    for (int p = 0; p < np; ++p) {
      std::int32_t* acc = tile + std::size_t(p) * rows;
      __m512i correction = _mm512_setzero_si512();
      if (w_zero_point != 0) {
        // sum (x - zp) * (w - w_zp) = sum (x - zp) * w - w_zp * sum (x - zp); the patch's sum, mod 2^32.
        std::uint32_t sum = 0;
        for (std::size_t k = 0; k < reduction; ++k) sum += patch[p][k];
        sum -= std::uint32_t(reduction) * std::uint32_t(shift);
        correction = _mm512_set1_epi32(static_cast<std::int32_t>(std::uint32_t(w_zero_point) * sum));
      }
      for (std::size_t c = 0; c < rows; c += 16)
        _mm512_storeu_si512(acc + c, _mm512_sub_epi32(_mm512_add_epi32(_mm512_loadu_si512(acc + c),
                                                                         _mm512_loadu_si512(base + c)),
                                                        correction));
      epilogue(p0 + p, static_cast<const std::int32_t*>(acc));
    }
  }
}

}  // namespace statiq::kernels::x86

#endif  // STATIQ_KERNELS_AVX512_VNNI
