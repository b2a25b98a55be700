// statiq/kernels/arm/neon/conv2d.hpp — the AArch64 NEON convolution (group 1; Dense is its 1x1 case)
// on weights stored oc16_k4 (the layout every build reads: 16 bytes of a block are 4 reduction
// elements of 4 output channels, exactly SDOT's operand). Signed bytes on both sides: uint8
// activations are flipped to x - 128 (XOR 0x80) and the -128 folded, with the input zero point, into
// a per-channel constant (bias - shift * sum w). With the dot-product extension (__ARM_FEATURE_DOTPROD)
// SDOT adds four 8x8 products a lane; without it SMULL widens eight products to int16 and SADALP adds
// them in pairs into int32 lanes (exact: |product| <= 2^14). Equal to kernels/reference/conv2d.hpp
// bit for bit (tests/device/neon_kernels_test.cpp, run under qemu-aarch64 for both variants).
#pragma once

#include "statiq/kernels/isa.hpp"
#if defined(STATIQ_KERNELS_ARM_NEON)  // else this header is empty

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "statiq/core/weight_layout.hpp"
#include "statiq/kernels/padded_input.hpp"
#include "statiq/kernels/reference/conv2d.hpp"

namespace statiq::kernels::arm::neon {

// Output pixels handed to the epilogue together (the tile of accumulators in scratch).
inline constexpr int conv_pixel_block = 16;
// Pixels whose accumulators stay in registers through the whole reduction of 16 channels:
// 4 x 4 int32x4 with SDOT; 2 x 8 int32x4 (pairs of partial sums per channel) without.
#if defined(STATIQ_KERNELS_ARM_NEON_DOTPROD)
inline constexpr int conv_pixel_tile = 4;
#else
inline constexpr int conv_pixel_tile = 2;
#endif

constexpr int conv_block_pixels(const reference::Conv2DGeometry& g) {
  const int pixels = g.out.h * g.out.w;
  return pixels < conv_pixel_block ? pixels : conv_pixel_block;
}

// int8, unpadded inputs whose segments hold whole 4-byte groups are read in place; any other is
// copied once per call into scratch: pads filled with the zero point, uint8 flipped to int8, with
// slack so that a segment's last 4-byte group may read past the end.
constexpr bool conv2d_reads_input_in_place(const reference::Conv2DGeometry& g, const WeightLayout& w,
                                           bool signed_input) {
  return signed_input && g.pads.top == 0 && g.pads.left == 0 && g.pads.bottom == 0 && g.pads.right == 0 &&
         w.segment_cols() % 4 == 0;
}
constexpr std::size_t conv2d_padded_input_bytes(const reference::Conv2DGeometry& g) {
  return std::size_t(g.in.h + g.pads.top + g.pads.bottom) * std::size_t(g.in.w + g.pads.left + g.pads.right) *
             std::size_t(g.in.c) + 16;
}

// int32 words of scratch: the per-channel constants, one row of accumulators per pixel of a block,
// the segments' input offsets, and the input copy.
constexpr std::size_t conv2d_scratch_words(const reference::Conv2DGeometry& g, const WeightLayout& w,
                                           bool signed_input) {
  const std::size_t rows = w.padded_rows(), block = std::size_t(conv_block_pixels(g));
  const std::size_t copy = conv2d_reads_input_in_place(g, w, signed_input) ? 0 : (conv2d_padded_input_bytes(g) + 3) / 4;
  return rows + block * rows + w.segments() + copy;
}

namespace detail {

// Bytes of one oc16_k4 group (4 reduction elements of 16 channels) stored Bits wide.
template <int Bits>
inline constexpr std::size_t vector_bytes = 64 * std::size_t(Bits) / 8;

// Weight j of a group of 64 packed Bits wide (low bits first) lies in byte j * Bits / 8 at bit
// j * Bits % 8: TBL gathers each weight's byte, USHL moves its field to the top, SSHR sign-extends.
template <int Bits>
struct unpack_table {
  std::uint8_t index[4][16];
  std::int8_t left[16];
  constexpr unpack_table() : index{}, left{} {
    for (int q = 0; q < 4; ++q)
      for (int j = 0; j < 16; ++j) index[q][j] = static_cast<std::uint8_t>((16 * q + j) * Bits / 8);
    for (int j = 0; j < 16; ++j) left[j] = static_cast<std::int8_t>(8 - Bits - (j * Bits) % 8);
  }
};
template <int Bits>
inline constexpr unpack_table<Bits> unpack = {};

// The 64 signed weights of a group as four vectors of 16 (vector q: channels 4q..4q+3, 4 each).
template <int Bits>
inline void load_weights(const std::uint8_t* w, int8x16_t (&v)[4]) {
  if constexpr (Bits == 8) {
#pragma GCC unroll 8
    for (int q = 0; q < 4; ++q) v[q] = vreinterpretq_s8_u8(vld1q_u8(w + 16 * q));
  } else {
    const int8x16_t left = vld1q_s8(unpack<Bits>.left);
#pragma GCC unroll 8
    for (int q = 0; q < 4; ++q) {
      const uint8x16_t index = vld1q_u8(unpack<Bits>.index[q]);
      uint8x16_t bytes;
      if constexpr (Bits == 4) bytes = vqtbl2q_u8(uint8x16x2_t{{vld1q_u8(w), vld1q_u8(w + 16)}}, index);
      else if constexpr (Bits == 2) bytes = vqtbl1q_u8(vld1q_u8(w), index);
      else bytes = vqtbl1q_u8(vcombine_u8(vld1_u8(w), vdup_n_u8(0)), index);
      v[q] = vshrq_n_s8(vreinterpretq_s8_u8(vshlq_u8(bytes, left)), 8 - Bits);
    }
  }
}

// a + b and a - b mod 2^32, as the accumulators wrap (in unsigned lanes: GCC writes vaddq_s32 as a
// signed vector +, whose overflow UBSan reports).
inline int32x4_t add_wrapping(int32x4_t a, int32x4_t b) {
  return vreinterpretq_s32_u32(vaddq_u32(vreinterpretq_u32_s32(a), vreinterpretq_u32_s32(b)));
}
inline int32x4_t sub_wrapping(int32x4_t a, int32x4_t b) {
  return vreinterpretq_s32_u32(vsubq_u32(vreinterpretq_u32_s32(a), vreinterpretq_u32_s32(b)));
}

// Four input bytes (one reduction group) in every 32-bit lane.
inline int8x16_t broadcast4(const std::int8_t* x) {
  std::uint32_t v;
  std::memcpy(&v, x, sizeof v);
  return vreinterpretq_s8_u32(vdupq_n_u32(v));
}

// out[p * ld + c] = base[c] + sum over the segments s and groups k < k4 of the 4 bytes at
// pixel[p] + offset[s] + 4k times channel c's 4 weights, for 16 channels (one oc16_k4 block, w its
// first group) and the first n (<= P) pixels.
template <int P, int Bits>
inline void dot_tile(const std::int8_t* const* pixel, int n, const std::int32_t* offset, int segments, int k4,
                     const std::uint8_t* w, std::int32_t* out, std::size_t ld, const std::int32_t* base) {
#if defined(STATIQ_KERNELS_ARM_NEON_DOTPROD)
  int32x4_t acc[P][4];
#pragma GCC unroll 8
  for (int q = 0; q < 4; ++q) {
    const int32x4_t b = vld1q_s32(base + 4 * q);
#pragma GCC unroll 8
    for (int p = 0; p < P; ++p) acc[p][q] = b;
  }
  for (int s = 0; s < segments; ++s) {
    const std::int8_t* x[P];
#pragma GCC unroll 8
    for (int p = 0; p < P; ++p) x[p] = pixel[p] + offset[s];
    const std::uint8_t* ws = w + std::size_t(s) * std::size_t(k4) * vector_bytes<Bits>;
    for (int k = 0; k < k4; ++k, ws += vector_bytes<Bits>) {
      int8x16_t wv[4];
      load_weights<Bits>(ws, wv);
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p) {
        const int8x16_t xb = broadcast4(x[p] + 4 * k);
#pragma GCC unroll 8
        for (int q = 0; q < 4; ++q) acc[p][q] = vdotq_s32(acc[p][q], wv[q], xb);
      }
    }
  }
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p)
    if (p < n)
#pragma GCC unroll 8
      for (int q = 0; q < 4; ++q) vst1q_s32(out + std::size_t(p) * ld + 4 * std::size_t(q), acc[p][q]);
#else
  // acc[p][h]: channels 4(h/2) + 2(h%2) and + 1, two partial sums each (elements 0+1 and 2+3).
  int32x4_t acc[P][8];
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 8
    for (int h = 0; h < 8; ++h) acc[p][h] = vdupq_n_s32(0);
  for (int s = 0; s < segments; ++s) {
    const std::int8_t* x[P];
#pragma GCC unroll 8
    for (int p = 0; p < P; ++p) x[p] = pixel[p] + offset[s];
    const std::uint8_t* ws = w + std::size_t(s) * std::size_t(k4) * vector_bytes<Bits>;
    for (int k = 0; k < k4; ++k, ws += vector_bytes<Bits>) {
      int8x16_t wv[4];
      load_weights<Bits>(ws, wv);
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p) {
        const int8x16_t xb = broadcast4(x[p] + 4 * k);
#pragma GCC unroll 8
        for (int q = 0; q < 4; ++q) {
          acc[p][2 * q] = vpadalq_s16(acc[p][2 * q], vmull_s8(vget_low_s8(wv[q]), vget_low_s8(xb)));
          acc[p][2 * q + 1] = vpadalq_s16(acc[p][2 * q + 1], vmull_high_s8(wv[q], xb));
        }
      }
    }
  }
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p)
    if (p < n)
#pragma GCC unroll 8
      for (int q = 0; q < 4; ++q)
        vst1q_s32(out + std::size_t(p) * ld + 4 * std::size_t(q),
                  add_wrapping(vld1q_s32(base + 4 * q), vpaddq_s32(acc[p][2 * q], acc[p][2 * q + 1])));
#endif
}

// All `blocks` blocks of 16 channels (block_stride bytes of weights apart, written 16 words apart
// from tile, constants from base) for the np pixels of a block: whole tiles of P pixels, then the
// rest one pixel at a time (a Dense layer has one pixel: a tile would compute P - 1 copies of it).
template <int Bits>
inline void dot_all_blocks(const std::int8_t* const* pixel, int np, const std::int32_t* offset, int segments, int k4,
                           const std::uint8_t* w, int blocks, std::size_t block_stride, std::int32_t* tile,
                           std::size_t ld, const std::int32_t* base) {
  constexpr int P = conv_pixel_tile;
  for (int t = 0; t < np;) {
    const int tp = np - t >= P ? P : 1;
    for (int b = 0; b < blocks; ++b) {
      const std::uint8_t* wb = w + std::size_t(b) * block_stride;
      std::int32_t* out = tile + std::size_t(t) * ld + std::size_t(b) * 16;
      const std::int32_t* bb = base + std::size_t(b) * 16;
      if (tp == P) dot_tile<P, Bits>(pixel + t, P, offset, segments, k4, wb, out, ld, bb);
      else dot_tile<1, Bits>(pixel + t, 1, offset, segments, k4, wb, out, ld, bb);
    }
    t += tp;
  }
}


// Input bytes as the dot products read them (signed): uint8 activations are flipped to x - 128.
template <class X>
inline constexpr std::int32_t input_offset = std::is_signed_v<X> ? 0 : 128;

// The input copied with its pads (bytes whose signed value is the shifted zero point, so they add
// nothing) and uint8 flipped to int8.
template <class X>
inline void pad_input(const reference::Conv2DGeometry& g, const X* x, std::uint8_t pad, std::uint8_t* dst) {
  constexpr std::uint8_t flip = static_cast<std::uint8_t>(input_offset<X>);
  copy_padded_input(g, reinterpret_cast<const std::uint8_t*>(x), pad, 16, dst,
                    [&](std::uint8_t* d, const std::uint8_t* s, std::size_t n) {
                      std::size_t i = 0;
                      for (; i + 16 <= n; i += 16) vst1q_u8(d + i, veorq_u8(vld1q_u8(s + i), vdupq_n_u8(flip)));
                      for (; i < n; ++i) d[i] = static_cast<std::uint8_t>(s[i] ^ flip);
                    });
}

}  // namespace detail

// The convolution of g (group == 1) over NHWC x, weights w stored as `layout` (oc16_k4). Calls
// epilogue(first, count, acc, ld) once per block of pixels (row-major over out.h x out.w): pixel
// first + p has acc[p * ld + oc] (oc < out.c), the reference kernel's bias[oc] + sum (x -
// x_zero_point) * (w - w_zero_point), wrapping mod 2^32 like it (exact whenever the true accumulator
// fits, checked at compile time by the layers). WeightBits: 8, or 4/2/1 for weights packed 2/4/8 to
// a byte in the same order (widened in registers as they are read). weight_sums: out.c sums of each
// channel's weights (core/weight_sums.hpp), never null; it may be `scratch` itself (each channel's
// sum is read before its constant is written over it).
template <int WeightBits = 8, class X, class Epilogue>
void conv2d(const reference::Conv2DGeometry& g, const X* x, std::int32_t x_zero_point, const WeightLayout& layout,
            const std::uint8_t* w, std::int32_t w_zero_point, const std::int32_t* bias,
            const std::int32_t* weight_sums, std::int32_t* scratch, Epilogue&& epilogue) {
  static_assert(sizeof(X) == 1, "the NEON convolution reads byte activations");
  const std::size_t rows = layout.padded_rows(), cols = layout.padded_cols();
  const int segments = int(layout.segments());
  const int k4 = int(layout.padded_segment() / 4);
  const int blocks = int(rows / 16);
  const std::size_t block_stride = cols * 16 * WeightBits / 8;  // bytes of 16 rows
  const int block = conv_block_pixels(g);
  std::int32_t* base = scratch;
  std::int32_t* tile = base + rows;
  std::int32_t* offset = tile + std::size_t(block) * rows;

  // base[oc] = bias[oc] - shift * sum_k w[oc][k], shift = x_zero_point - input_offset: the dot
  // products read x - input_offset, so sum (x - zp) * w = dot - shift * sum w (mod 2^32). The sums
  // come with the layer's data; padding channels get 0.
  const std::int32_t shift = x_zero_point - detail::input_offset<X>;
  for (std::size_t oc = 0; oc < rows; ++oc) {
    const bool live = oc < std::size_t(g.out.c);
    const std::uint32_t bv = bias && live ? std::uint32_t(bias[oc]) : 0u;
    const std::uint32_t sv = live ? std::uint32_t(weight_sums[oc]) : 0u;
    base[oc] = static_cast<std::int32_t>(bv - std::uint32_t(shift) * sv);
  }

  // The input the segments are read from, and where each segment starts relative to a pixel's window.
  const auto* in = reinterpret_cast<const std::int8_t*>(x);
  if (!conv2d_reads_input_in_place(g, layout, std::is_signed_v<X>)) {
    auto* copy = reinterpret_cast<std::uint8_t*>(offset + segments);
    detail::pad_input(g, x, static_cast<std::uint8_t>(shift), copy);
    in = reinterpret_cast<const std::int8_t*>(copy);
  }
  const std::size_t segment = layout.segment_cols();
  segment_offsets(g, layout, offset);

  const int pixels = g.out.h * g.out.w;
  for (int p0 = 0; p0 < pixels; p0 += block) {
    const int np = pixels - p0 < block ? pixels - p0 : block;
    const std::int8_t* pixel[conv_pixel_block];
    block_pixels(g, in, p0, np, np, pixel);
    detail::dot_all_blocks<WeightBits>(pixel, np, offset, segments, k4, w, blocks, block_stride, tile, rows, base);
    if (w_zero_point != 0)
      subtract_weight_zero_point_term(pixel, np, offset, segments, segment, shift, w_zero_point, tile, rows,
                                              rows);
    epilogue(p0, np, static_cast<const std::int32_t*>(tile), rows);
  }
}

}  // namespace statiq::kernels::arm::neon

#endif  // STATIQ_KERNELS_ARM_NEON
