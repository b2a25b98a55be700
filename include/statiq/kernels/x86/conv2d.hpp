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
#include "statiq/kernels/padded_input.hpp"
#include "statiq/kernels/reference/conv2d.hpp"

namespace statiq::kernels::x86 {

// Output pixels whose accumulators are computed together: the weights of a chunk of the reduction
// (conv_k_chunk groups of 4 bytes x 64 channels = 16 KiB) stay in L1 while every pixel of the block
// passes, 6 or 12 pixels at a time (the micro-kernels' register tiles).
inline constexpr int conv_pixel_block = 48;
inline constexpr int conv_k_chunk = 64;

// Pixels of a block for this convolution (fewer when the output has fewer).
constexpr int conv_block_pixels(const reference::Conv2DGeometry& g) {
  const int pixels = g.out.h * g.out.w;
  return pixels < conv_pixel_block ? pixels : conv_pixel_block;
}

// The input as the kernel reads it: an unsigned, unpadded input whose segments hold whole 4-byte
// groups is read in place; any other is copied once per call into scratch, padded with its zero
// point, int8 flipped to uint8, with slack so that a segment's last 4-byte group may overrun.
constexpr bool conv2d_reads_input_in_place(const reference::Conv2DGeometry& g, const WeightLayout& w,
                                           bool signed_input) {
  return !signed_input && g.pads.top == 0 && g.pads.left == 0 && g.pads.bottom == 0 && g.pads.right == 0 &&
         w.segment_cols() % 4 == 0;
}
constexpr std::size_t conv2d_padded_input_bytes(const reference::Conv2DGeometry& g) {
  return std::size_t(g.in.h + g.pads.top + g.pads.bottom) * std::size_t(g.in.w + g.pads.left + g.pads.right) *
             std::size_t(g.in.c) + 64;
}

// int32 words of scratch: the per-channel constants (bias and zero-point terms), one row of
// accumulators per pixel of a block, the segments' input offsets, and the padded input copy.
constexpr std::size_t conv2d_scratch_words(const reference::Conv2DGeometry& g, const WeightLayout& w,
                                           bool signed_input) {
  const std::size_t rows = w.padded_rows(), block = std::size_t(conv_block_pixels(g));
  const std::size_t copy = conv2d_reads_input_in_place(g, w, signed_input) ? 0 : (conv2d_padded_input_bytes(g) + 3) / 4;
  return rows + block * rows + w.segments() + copy;
}

namespace detail {

inline std::int32_t load_u32(const std::uint8_t* p) {
  std::int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Bytes of one oc16_k4 weight vector (64 weights: 4 reduction elements of 16 channels) stored
// Bits wide: 64 for bytes, 32/16/8 for weights packed 2/4/8 to a byte (low bits first).
template <int Bits>
inline constexpr std::size_t vector_bytes = 64 * std::size_t(Bits) / 8;

// The 64 signed weights of one oc16_k4 vector as bytes. Packed ones are widened in registers: each
// 64-bit lane takes the 8 weights it will hold (8 * Bits bits), which are spread to one per byte by
// three shift-or-mask steps (halves, quarters, eighths of the lane), then sign-extended from Bits
// bits ((v ^ h) - h, h = 2^(Bits-1)). Only AVX-512F/BW, so every build of this kernel reads them.
template <int Bits>
inline __m512i load_weights(const std::uint8_t* w) {
  if constexpr (Bits == 8) {
    return _mm512_loadu_si512(w);
  } else {
    constexpr __mmask8 all = 0xff;
    __m512i v;
    if constexpr (Bits == 4) v = _mm512_maskz_cvtepu32_epi64(all, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w)));
    else if constexpr (Bits == 2) v = _mm512_maskz_cvtepu16_epi64(all, _mm_loadu_si128(reinterpret_cast<const __m128i*>(w)));
    else v = _mm512_maskz_cvtepu8_epi64(all, _mm_loadl_epi64(reinterpret_cast<const __m128i*>(w)));
    // Field i (Bits wide, at bit i * Bits) moves to bit 8 * i: fields 4-7 to bit 32, then 2-3 of each
    // half to its bit 16, then 1 of each quarter to its bit 8, keeping what is in place.
    constexpr auto low = [](int n) { return (std::uint64_t{1} << n) - 1; };
    const auto step = [&](__m512i x, unsigned shift, std::uint64_t keep) {
      // (x | x << shift) & keep in one vpternlogq (0xa8: (A | B) & C).
      return _mm512_ternarylogic_epi64(x, _mm512_maskz_slli_epi64(all, x, shift),
                                       _mm512_set1_epi64(static_cast<std::int64_t>(keep)), 0xa8);
    };
    v = step(v, 4 * (8 - Bits), low(4 * Bits) | low(4 * Bits) << 32);
    v = step(v, 2 * (8 - Bits), low(2 * Bits) * 0x0001000100010001u);
    v = step(v, 8 - Bits, low(Bits) * 0x0101010101010101u);
    const __m512i h = _mm512_set1_epi8(static_cast<char>(1 << (Bits - 1)));
    return _mm512_sub_epi8(_mm512_xor_si512(v, h), h);
  }
}

// acc[p][q] = start + sum over k < k4 of pixel[p][offset + 4k .. +3] . w[block q][k], 16 channels a
// vector, where start is what `out` holds when accumulate is set, else the channels' constants
// base[q * 16 ..] (bias and zero-point terms). Stores the first n (<= P) pixels' rows; the others
// repeat a pixel of the block.
template <int P, int Q, int Bits>
inline void dot_tile(const std::uint8_t* const* pixel, int n, std::size_t offset, int k4, const std::uint8_t* w,
                     std::size_t block_stride, std::int32_t* out, std::size_t ld, bool accumulate,
                     const std::int32_t* base) {
  __m512i acc[P][Q];
  if (accumulate) {
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
      for (int q = 0; q < Q; ++q)
        acc[p][q] = p < n ? _mm512_loadu_si512(out + std::size_t(p) * ld + std::size_t(q) * 16) : _mm512_setzero_si512();
  } else {
#pragma GCC unroll 4
    for (int q = 0; q < Q; ++q) {
      const __m512i b = _mm512_loadu_si512(base + std::size_t(q) * 16);
#pragma GCC unroll 16
      for (int p = 0; p < P; ++p) acc[p][q] = b;
    }
  }
  const std::uint8_t* x[P];
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p) x[p] = pixel[p] + offset;
  for (int k = 0; k < k4; ++k, w += vector_bytes<Bits>) {
    __m512i wv[Q];
#pragma GCC unroll 4
    for (int q = 0; q < Q; ++q) wv[q] = load_weights<Bits>(w + std::size_t(q) * block_stride);
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) {
      const __m512i xb = _mm512_set1_epi32(load_u32(x[p] + 4 * k));
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

// Q blocks of 16 channels, starting at block b, for the np pixels of a block: the reduction in
// chunks (segment by segment, conv_k_chunk groups at a time), each chunk's weights used by every
// pixel before the next chunk is read.
template <int P, int Q, int Bits>
inline void dot_blocks(const std::uint8_t* const* pixel, int np, const std::int32_t* offset, int segments, int k4,
                       const std::uint8_t* w, std::size_t block_stride, std::int32_t* tile, std::size_t ld,
                       const std::int32_t* base) {
  for (int s = 0; s < segments; ++s)
    for (int k0 = 0; k0 < k4; k0 += conv_k_chunk) {
      const int kn = k4 - k0 < conv_k_chunk ? k4 - k0 : conv_k_chunk;
      const std::uint8_t* wc = w + (std::size_t(s) * std::size_t(k4) + std::size_t(k0)) * vector_bytes<Bits>;
      const std::size_t at = std::size_t(offset[s]) + 4 * std::size_t(k0);
      for (int sub = 0; sub < np; sub += P)
        dot_tile<P, Q, Bits>(pixel + sub, np - sub, at, kn, wc, block_stride, tile + std::size_t(sub) * ld, ld,
                             s > 0 || k0 > 0, base);
    }
}

// All `blocks` blocks of 16 channels for the np pixels of a block: four at a time (6 pixels a tile),
// then the 1-3 left (fewer accumulators, so more pixels a tile).
template <int Bits>
inline void dot_all_blocks(const std::uint8_t* const* pixel, int np, const std::int32_t* offset, int segments, int k4,
                           const std::uint8_t* w, int blocks, std::size_t block_stride, std::int32_t* tile,
                           std::size_t ld, const std::int32_t* base) {
  int b = 0;
  for (; b + 4 <= blocks; b += 4)
    dot_blocks<6, 4, Bits>(pixel, np, offset, segments, k4, w + std::size_t(b) * block_stride, block_stride,
                           tile + std::size_t(b) * 16, ld, base + std::size_t(b) * 16);
  const int rest = blocks - b;
  const std::uint8_t* wr = w + std::size_t(b) * block_stride;
  std::int32_t* tr = tile + std::size_t(b) * 16;
  const std::int32_t* br = base + std::size_t(b) * 16;
  if (rest == 3) dot_blocks<6, 3, Bits>(pixel, np, offset, segments, k4, wr, block_stride, tr, ld, br);
  else if (rest == 2) dot_blocks<12, 2, Bits>(pixel, np, offset, segments, k4, wr, block_stride, tr, ld, br);
  else if (rest == 1) dot_blocks<12, 1, Bits>(pixel, np, offset, segments, k4, wr, block_stride, tr, ld, br);
}


// Input bytes as vpdpbusd reads them (unsigned): int8 activations are flipped to x + 128.
template <class X>
inline constexpr std::uint8_t input_offset = std::is_signed_v<X> ? 128 : 0;

// The input copied with its pads (the zero point, so they add nothing) and int8 flipped to uint8.
template <class X>
inline void pad_input(const reference::Conv2DGeometry& g, const X* x, std::uint8_t pad, std::uint8_t* dst) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(input_offset<X>));
  copy_padded_input(g, reinterpret_cast<const std::uint8_t*>(x), pad, 64, dst,
                    [&](std::uint8_t* d, const std::uint8_t* s, std::size_t n) {
                      for (std::size_t i = 0; i < n; i += 64) {
                        const std::size_t rest = n - i;
                        const __mmask64 m = rest >= 64 ? ~__mmask64{0} : (__mmask64{1} << rest) - 1;
                        _mm512_mask_storeu_epi8(d + i, m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, s + i), flip));
                      }
                    });
}

// The input the segments are read from: x in place where the layout allows it, else a padded copy
// written at `copy` (pads and slack hold `shift`, the zero point as the dot products read it).
template <class X>
inline const std::uint8_t* conv_input(const reference::Conv2DGeometry& g, const WeightLayout& layout, const X* x,
                                      std::int32_t shift, std::uint8_t* copy) {
  if (conv2d_reads_input_in_place(g, layout, std::is_signed_v<X>)) return reinterpret_cast<const std::uint8_t*>(x);
  pad_input(g, x, static_cast<std::uint8_t>(shift), copy);
  return copy;
}

}  // namespace detail

// The convolution of g (group == 1) over NHWC x, weights w stored as `layout` (oc16_k4, rows =
// out.c, cols = kernel.h * kernel.w * in.c, segments of a kernel row or of one tap). For each output
// pixel (row-major over out.h x out.w) calls epilogue(first, count, acc, ld) once per block of
// pixels: pixel first + p has acc[p * ld + oc] (oc < out.c), the reference kernel's accumulator
// bias[oc] + sum (x - x_zero_point) * (w - w_zero_point). WeightBits: 8, or 4/2/1 for weights packed
// 2/4/8 to a byte in the same order (widened in registers as they are read). weight_sums: out.c
// sums of each channel's weights (core/weight_sums.hpp), never null; it may be `scratch` itself
// (each channel's sum is read before its constant is written over it).
template <int WeightBits = 8, class X, class Epilogue>
void conv2d(const reference::Conv2DGeometry& g, const X* x, std::int32_t x_zero_point, const WeightLayout& layout,
            const std::uint8_t* w, std::int32_t w_zero_point, const std::int32_t* bias,
            const std::int32_t* weight_sums, std::int32_t* scratch, Epilogue&& epilogue) {
  static_assert(sizeof(X) == 1, "the VNNI convolution reads byte activations");
  const std::size_t rows = layout.padded_rows(), cols = layout.padded_cols();
  const int segments = int(layout.segments());
  const int k4 = int(layout.padded_segment() / 4);
  const int blocks = int(rows / 16);
  const std::size_t block_stride = cols * 16 * WeightBits / 8;  // bytes of 16 rows
  const int block = conv_block_pixels(g);
  std::int32_t* base = scratch;
  std::int32_t* tile = base + rows;
  std::int32_t* offset = tile + std::size_t(block) * rows;

  // base[oc] = bias[oc] - (x_zero_point + flip) * sum_k w[oc][k]: the dot products read x + flip as
  // unsigned bytes, so sum (x - zp) * w = dot - (zp + flip) * sum w. The sums come with the layer's
  // data; everything wraps mod 2^32 like the accumulators, so the result is exact whenever the true
  // accumulator fits (checked at compile time). Padding channels get 0.
  const std::int32_t shift = x_zero_point + detail::input_offset<X>;
  const __m512i shift_v = _mm512_set1_epi32(shift);
  for (int b = 0; b < blocks; ++b) {
    const int first = b * 16;
    const int valid = g.out.c - first < 16 ? g.out.c - first : 16;
    const __mmask16 m = static_cast<__mmask16>((1u << valid) - 1u);
    const __m512i s = _mm512_maskz_loadu_epi32(m, weight_sums + first);
    const __m512i bv = bias ? _mm512_maskz_loadu_epi32(m, bias + first) : _mm512_setzero_si512();
    _mm512_storeu_si512(base + first, _mm512_sub_epi32(bv, _mm512_mullo_epi32(shift_v, s)));
  }

  // The input the segments are read from, and where each segment starts relative to a pixel's window.
  const std::uint8_t* in = detail::conv_input(g, layout, x, shift, reinterpret_cast<std::uint8_t*>(offset + segments));
  const std::size_t segment = layout.segment_cols();
  segment_offsets(g, layout, offset);

  const int pixels = g.out.h * g.out.w;
  for (int p0 = 0; p0 < pixels; p0 += block) {
    const int np = pixels - p0 < block ? pixels - p0 : block;
    const std::uint8_t* pixel[conv_pixel_block];
    block_pixels(g, in, p0, np, conv_pixel_block, pixel);
    detail::dot_all_blocks<WeightBits>(pixel, np, offset, segments, k4, w, blocks, block_stride, tile, rows, base);
    if (w_zero_point != 0)
      subtract_weight_zero_point_term(pixel, np, offset, segments, segment, shift, w_zero_point, tile, rows,
                                              rows);
    epilogue(p0, np, static_cast<const std::int32_t*>(tile), rows);
  }
}

}  // namespace statiq::kernels::x86

#endif  // STATIQ_KERNELS_AVX512_VNNI
