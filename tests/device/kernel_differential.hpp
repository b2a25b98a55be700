// tests/device/kernel_differential.hpp — what the device kernel tests (arm_kernels_test.cpp on the
// Cortex-M boards, neon_kernels_test.cpp on AArch64) share: static operand buffers (no heap on the
// boards), random geometries and operands that reach the extremes, and the comparisons of a fast
// kernel's accumulators, of whole layers (kernel + fused pool + requantization) for a profile and of
// Dense layers against the reference path, bit for bit. No Catch2 (none for these toolchains): each
// mismatch is printed and counted in `failures`. Include it once, from the test's translation unit.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <type_traits>

#include "statiq/arith/akida_v1.hpp"
#include "statiq/arith/gemmini.hpp"
#include "statiq/arith/pow2.hpp"
#include "statiq/arith/qlinear.hpp"
#include "statiq/arith/tflite.hpp"
#include "statiq/core/packed.hpp"
#include "statiq/core/qint.hpp"
#include "statiq/layers/convolution.hpp"
#include "statiq/layers/dense.hpp"

namespace statiq::device_test {

// The buffers' sizes bound the random geometries (QEMU runs the reference loops too: keep each small).
inline constexpr std::size_t max_inputs = 6144, max_weights = 16384, max_outputs = 6144, max_scratch = 16384;
inline constexpr long max_macs = 400000;

inline std::int32_t x_values[max_inputs], w_values[max_weights], bias[256];  // channels: at most 256 (random_conv)
inline std::uint8_t x_bytes[max_inputs], w_fast[2 * max_weights + 4096], w_row_major[max_weights];
inline std::int32_t acc_fast[max_outputs], acc_reference[max_outputs];
inline std::int32_t scratch_fast[max_scratch], scratch_reference[max_scratch];
inline std::uint8_t y_fast[max_outputs], y_reference[max_outputs];
inline int x_zero_point = 0, w_zero_point = 0;
// Per output channel, the sum of its weights as the generator supplies them, computed here in int64
// from w_values (not with statiq::weight_sums, the function under test) and wrapped to int32.
inline std::int32_t weight_sum_values[256];
inline int failures = 0;

inline std::mt19937& rng() {
  static std::mt19937 g(20261206);
  return g;
}
inline int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng()); }
inline bool coin(double p = 0.5) { return std::bernoulli_distribution(p)(rng()); }
inline int pick(std::initializer_list<int> v) { return *(v.begin() + uniform(0, int(v.size()) - 1)); }

inline void describe(const char* what, const ConvAttributes& a, bool signed_input) {
  std::printf("MISMATCH %s: in %dx%dx%d filters %d kernel %dx%d strides %dx%d dilations %dx%d pads %d,%d,%d,%d group %d "
              "%s x_zp %d w_zp %d\n",
              what, a.input.h, a.input.w, a.input.c, a.filters, a.kernel.h, a.kernel.w, a.strides.h, a.strides.w,
              a.dilations.h, a.dilations.w, a.pads.top, a.pads.left, a.pads.bottom, a.pads.right, a.group,
              signed_input ? "int8" : "uint8", x_zero_point, w_zero_point);
}

// Whether a convolution's operands, accumulators and scratch fit the buffers, within max_macs.
inline bool fits_buffers(const ConvAttributes& a) {
  const Shape out = conv_output_shape(a);
  if (out.h <= 0 || out.w <= 0 || a.filters > 256) return false;
  const long macs = long(out.size()) * a.kernel.h * a.kernel.w * (a.input.c / a.group);
  const WeightLayout layout = weight_layout(a, true);
  return std::size_t(a.input.size()) <= max_inputs && weight_count(a) <= max_weights &&
         layout.stored(weight_count(a)) <= sizeof w_fast && std::size_t(out.size()) <= max_outputs && macs <= max_macs &&
         scratch_words(a, row_major_layout) <= max_scratch && scratch_words(a, layout) <= max_scratch;
}

// A random convolution within the buffers: group 1 or depthwise, with channel multiplier 1 or, when
// max_multiplier > 1, 2..max_multiplier three times in ten.
inline ConvAttributes random_conv(bool depthwise, int max_multiplier = 1) {
  for (;;) {
    ConvAttributes a;
    a.kernel = {uniform(1, 7), uniform(1, 7)};
    if (coin(0.2)) a.kernel = {1, 1};
    a.strides = {uniform(1, 2), uniform(1, 2)};
    a.dilations = coin(0.2) ? Dilation{uniform(1, 2), uniform(1, 2)} : Dilation{1, 1};
    const int eh = (a.kernel.h - 1) * a.dilations.h + 1, ew = (a.kernel.w - 1) * a.dilations.w + 1;
    a.pads = Pads{uniform(0, eh - 1), uniform(0, ew - 1), uniform(0, eh - 1), uniform(0, ew - 1)};
    const int h = std::max(1, uniform(1, 8) + (coin(0.3) ? 0 : eh - a.pads.top - a.pads.bottom));
    const int w = std::max(1, uniform(1, 8) + (coin(0.3) ? 0 : ew - a.pads.left - a.pads.right));
    const int c = pick({1, 2, 3, 4, 5, 7, 8, 12, 15, 16, 17, 24, 31, 32, 33, 48, 64, 65});
    a.input = {h, w, c};
    const int multiplier = max_multiplier > 1 && coin(0.3) ? uniform(2, max_multiplier) : 1;
    a.filters = depthwise ? c * multiplier : pick({1, 3, 8, 15, 16, 17, 31, 32, 33, 47, 48, 49, 64, 65});
    a.group = depthwise ? c : 1;
    if (conv_output_shape(a).h <= 0 || conv_output_shape(a).w <= 0) a.pads = Pads{eh - 1, ew - 1, eh - 1, ew - 1};
    if (fits_buffers(a)) return a;
  }
}

// A random grouped convolution (1 < group < in.c) within the buffers: 2, 3, 4 or 8 groups of around
// 4 or 16 input and output channels (a group's rows padded to 16, its taps' channels to 4); the
// window, strides, dilations and pads as random_conv draws them.
inline ConvAttributes random_grouped() {
  for (;;) {
    ConvAttributes a = random_conv(false);
    const int groups = pick({2, 3, 4, 8});
    a.input.c = groups * pick({2, 3, 4, 5, 8, 12, 16, 17});
    a.filters = groups * pick({1, 3, 4, 8, 15, 16, 17, 24, 32, 33});
    a.group = groups;
    // Fewer pixels when the channels left too many for the buffers.
    for (int tries = 0; tries < 8 && !fits_buffers(a); ++tries) {
      a.input.h = std::max(1, a.input.h * 3 / 4);
      a.input.w = std::max(1, a.input.w * 3 / 4);
    }
    if (fits_buffers(a)) return a;
  }
}

// Operands over the whole range, or pinned to the extremes (the largest accumulators).
inline void random_operands(std::size_t inputs, std::size_t weights, int channels, bool signed_input) {
  const int lo = signed_input ? -128 : 0, hi = signed_input ? 127 : 255;
  const int mode = uniform(0, 3);
  x_zero_point = mode == 1 ? hi : mode == 2 ? lo : uniform(lo, hi);
  for (std::size_t i = 0; i < inputs; ++i) {
    x_values[i] = mode == 1 ? lo : mode == 2 ? hi : uniform(lo, hi);
    x_bytes[i] = static_cast<std::uint8_t>(x_values[i] & 0xff);
  }
  for (std::size_t i = 0; i < weights; ++i)
    w_values[i] = mode == 1 ? 127 : mode == 2 ? -128 : mode == 3 && coin(0.3) ? 0 : uniform(-128, 127);
  for (int c = 0; c < channels; ++c) bias[c] = uniform(-(1 << 20), 1 << 20);
  w_zero_point = coin(0.15) ? uniform(-5, 5) : 0;
}


template <class X>
const X* input() {
  return reinterpret_cast<const X*>(x_bytes);
}

// w_values (Bits wide, logical order) placed in `layout` and packed 8 / Bits to a byte, low bits
// first, as the generator stores them.
template <int Bits>
void pack_weights(const WeightLayout& layout, std::size_t count, std::uint8_t* dst) {
  if constexpr (Bits == 8) {
    lay_out_weights(layout, w_values, count, dst);
  } else {
    static std::int32_t stored[2 * max_weights + 4096];
    const std::size_t n = layout.stored(count);
    std::fill_n(stored, n, 0);
    for (std::size_t i = 0; i < count; ++i) stored[layout.index(i)] = w_values[i];
    constexpr std::size_t per_byte = 8 / Bits;
    std::fill_n(dst, (n + per_byte - 1) / per_byte, 0);
    for (std::size_t i = 0; i < n; ++i)
      dst[i / per_byte] |= static_cast<std::uint8_t>((unsigned(stored[i]) & ((1u << Bits) - 1u)) << (i % per_byte * Bits));
  }
}

inline void independent_weight_sums(int channels, std::size_t per_channel) {
  for (int c = 0; c < channels; ++c) {
    std::int64_t s = 0;
    for (std::size_t i = 0; i < per_channel; ++i) s += w_values[std::size_t(c) * per_channel + i];
    weight_sum_values[c] = static_cast<std::int32_t>(static_cast<std::uint32_t>(s));
  }
}
// The sums a layer gets: supplied (the generator's case) or null (a LayerData built by hand: the
// layer computes them at each call), at random so both paths meet every geometry.
inline const std::int32_t* sums_or_null(int channels, std::size_t per_channel) {
  independent_weight_sums(channels, per_channel);
  return coin() ? weight_sum_values : nullptr;
}

// The fast kernel's accumulators for every output pixel, as its epilogue receives them, against the
// reference kernel's (which reads the logical weights). The weight sums supplied or computed at
// random (sums_or_null).
template <int Bits, class X>
bool accumulators_agree(const ConvAttributes& a, kernels::ConvKernel k) {
  const auto g = conv_geometry(a);
  const WeightLayout layout = weight_layout(a, Bits == 8);
  pack_weights<Bits>(layout, weight_count(a), w_fast);
  const std::size_t n = std::size_t(g.out.size());
  std::fill_n(acc_fast, n, 0x7e7e7e7e);
  std::fill_n(scratch_fast, max_scratch, 0x5a5a5a5a);
  int delivered = 0;
  const std::size_t per_channel = weight_count(a) / std::size_t(a.filters);
  const std::int32_t* sums = detail::weight_sums_for(k, sums_or_null(a.filters, per_channel),
                                                     static_cast<const std::int32_t*>(w_values), a.filters,
                                                     per_channel, scratch_fast);
  detail::run_conv_kernel<Bits>(k, g, input<X>(), x_zero_point, layout, w_fast, w_zero_point, bias, sums, scratch_fast,
                                [&](int first, int count, const std::int32_t* rows, std::size_t ld) {
                                  for (int p = 0; p < count; ++p)
                                    std::copy_n(rows + std::size_t(p) * ld, g.out.c,
                                                acc_fast + std::size_t(first + p) * std::size_t(g.out.c));
                                  delivered += count;
                                });
  kernels::reference::conv2d(g, x_values, x_zero_point, w_values, w_zero_point, bias, acc_reference);
  // The kernel stayed inside the scratch it declares (kernels/select.hpp): the words past it untouched.
  const std::size_t declared = kernels::conv_kernel_scratch_words(k, g, layout, std::is_signed_v<X>);
  const bool inside = declared + 64 <= max_scratch &&
                      std::all_of(scratch_fast + declared, scratch_fast + declared + 64, [](std::int32_t v) { return v == 0x5a5a5a5a; });
  if (!inside) std::printf("MISMATCH scratch: the kernel wrote past its %zu declared words\n", declared);
  return inside && delivered == g.out.h * g.out.w && std::equal(acc_fast, acc_fast + n, acc_reference);
}

// Random per-channel parameters and output parameters of each profile, ties and saturation in reach.
template <class P>
typename P::channel_params random_channel() {
  if constexpr (std::is_same_v<P, arith::qlinear>)
    return {coin(0.3) ? 1.0f / float(1 << uniform(1, 12)) : std::uniform_real_distribution<float>(1e-6f, 0.02f)(rng())};
  else if constexpr (arith::is_tflite_profile<P>)
    return {uniform(1 << 30, 0x7fffffff), uniform(-20, 1)};
  else if constexpr (std::is_same_v<P, arith::pow2>)
    return {static_cast<std::uint8_t>(uniform(1, 255)), uniform(8, 24)};
  else if constexpr (std::is_same_v<P, arith::gemmini>)
    return {std::uniform_real_distribution<float>(1e-6f, 0.02f)(rng())};
  else
    return {uniform(-1000, 1000), uniform(1, 50000)};
}
template <class P>
typename P::output_params random_output(bool s) {
  if constexpr (std::is_same_v<P, arith::qlinear>) {
    const int zp = s ? uniform(-20, 20) : uniform(0, 40);
    return {zp, coin() ? zp : (s ? -128 : 0), s ? 127 : 255};
  } else if constexpr (arith::is_tflite_profile<P>) {
    const int zp = s ? uniform(-128, 20) : uniform(0, 40);
    return {zp, s ? (coin() ? zp : -128) : 0, s ? 127 : 255};
  } else if constexpr (std::is_same_v<P, arith::pow2>) {
    return {s ? -128 : 0, s ? 127 : 255};
  } else if constexpr (std::is_same_v<P, arith::gemmini>) {
    return {coin() ? 0 : -128, 127};
  } else {
    return {0, 15};
  }
}

template <class P>
typename P::channel_params* channel_buffer() {
  static typename P::channel_params buffer[256];
  return buffer;
}

// The whole layer through the fast kernel and through the reference path (the same weights row-major,
// which only the reference kernel takes).
template <class P, class X, class Y>
bool layer_agrees(const ConvAttributes& a) {
  const WeightLayout layout = weight_layout(a, true);
  lay_out_weights(layout, w_values, weight_count(a), w_fast);
  lay_out_weights(row_major_layout, w_values, weight_count(a), w_row_major);
  typename P::channel_params* ch = channel_buffer<P>();
  for (int c = 0; c < a.filters; ++c) ch[c] = random_channel<P>();
  const LayerData<P> d{bias, ch, random_output<P>(std::is_signed_v<Y>), x_zero_point, w_zero_point,
                       sums_or_null(a.filters, weight_count(a) / std::size_t(a.filters))};
  const std::size_t n = std::size_t(output_shape(a).size());
  std::fill_n(y_fast, n, 0x55);
  std::fill_n(y_reference, n, 0x2a);
  compute<P>(a, input<X>(), weight_view<qint<8, true>>{w_fast, layout}, d, reinterpret_cast<Y*>(y_fast), scratch_fast);
  compute<P>(a, input<X>(), weight_view<qint<8, true>>{w_row_major, row_major_layout}, d,
             reinterpret_cast<Y*>(y_reference), scratch_reference);
  return std::equal(y_fast, y_fast + n, y_reference);
}

// grouped: random_grouped() geometries, else group 1 or depthwise.
template <class P>
int compare_profile(int iterations, bool grouped = false) {
  int compared = 0;
  for (int iter = 0; iter < iterations; ++iter) {
    ConvAttributes a = grouped ? random_grouped() : random_conv(coin(0.3), 4);
    if (coin(0.3)) {
      // Fused pools: 2x2/2, 3x3/3, ResNet's overlapping 3x3/2 with a pixel of padding, global average.
      const Shape s = conv_output_shape(a);
      const int choice = uniform(0, 2);
      if (choice == 0 && s.h >= 2 && s.w >= 2) a.pool = max_pool(2, 2);
      if (choice == 1 && s.h >= 3 && s.w >= 3) a.pool = max_pool(3, 3);
      if (choice == 2 && s.h >= 2 && s.w >= 2) a.pool = max_pool(Kernel{3, 3}, Stride{2, 2}, Pads{1, 1, 1, 1});
      if (choice == 2 && coin(0.3) && s.h >= 2 && s.w >= 2) a.pool = global_average_pool;
    }
    const bool signed_input = coin();
    a.signed_input = signed_input;
    if (scratch_words(a, weight_layout(a, true)) > max_scratch || scratch_words(a, row_major_layout) > max_scratch) continue;
    random_operands(std::size_t(a.input.size()), weight_count(a), a.filters, signed_input);
    const bool signed_output = std::is_same_v<P, arith::gemmini> || (!std::is_same_v<P, arith::akida_v1> && coin());
    bool ok;
    if (signed_input && signed_output) ok = layer_agrees<P, std::int8_t, std::int8_t>(a);
    else if (signed_input) ok = layer_agrees<P, std::int8_t, std::uint8_t>(a);
    else if (signed_output) ok = layer_agrees<P, std::uint8_t, std::int8_t>(a);
    else ok = layer_agrees<P, std::uint8_t, std::uint8_t>(a);
    if (!ok) {
      describe(P::name, a, signed_input);
      ++failures;
    }
    ++compared;
  }
  return compared;
}

// Dense layers, which `expected` (this build's group-1 convolution) must run.
template <class P>
int compare_dense(int iterations, kernels::ConvKernel expected) {
  for (int iter = 0; iter < iterations; ++iter) {
    DenseAttributes a;
    a.input = {1, 1, pick({1, 3, 4, 15, 16, 63, 64, 65, 256, 257, 1000, 2048})};
    if (coin(0.3)) a.input = {uniform(1, 6), uniform(1, 6), uniform(1, 40)};
    a.units = pick({1, 2, 10, 15, 16, 17, 64, 100, 128});
    if (weight_count(a) > max_weights) a.units = int(max_weights / std::size_t(a.input.size()));
    const bool signed_input = coin();
    a.signed_input = signed_input;
    random_operands(std::size_t(a.input.size()), weight_count(a), a.units, signed_input);
    const WeightLayout layout = weight_layout(a, true);
    if (dense_kernel(a, layout) != expected) {
      std::printf("MISMATCH dense %d -> %d: not run by %s\n", a.input.size(), a.units, kernels::conv_kernel_name(expected));
      ++failures;
      continue;
    }
    lay_out_weights(layout, w_values, weight_count(a), w_fast);
    lay_out_weights(row_major_layout, w_values, weight_count(a), w_row_major);
    typename P::channel_params* ch = channel_buffer<P>();
    for (int c = 0; c < a.units; ++c) ch[c] = random_channel<P>();
    const LayerData<P> d{bias, ch, random_output<P>(false), x_zero_point, w_zero_point,
                         sums_or_null(a.units, std::size_t(a.input.size()))};
    std::fill_n(y_fast, a.units, 1);
    std::fill_n(y_reference, a.units, 2);
    if (signed_input) {
      compute<P>(a, input<std::int8_t>(), weight_view<qint<8, true>>{w_fast, layout}, d, y_fast, scratch_fast);
      compute<P>(a, input<std::int8_t>(), weight_view<qint<8, true>>{w_row_major, row_major_layout}, d, y_reference,
                 scratch_reference);
    } else {
      compute<P>(a, input<std::uint8_t>(), weight_view<qint<8, true>>{w_fast, layout}, d, y_fast, scratch_fast);
      compute<P>(a, input<std::uint8_t>(), weight_view<qint<8, true>>{w_row_major, row_major_layout}, d, y_reference,
                 scratch_reference);
    }
    if (!std::equal(y_fast, y_fast + a.units, y_reference)) {
      std::printf("MISMATCH dense %d -> %d %s profile %s x_zp %d w_zp %d\n", a.input.size(), a.units,
                  signed_input ? "int8" : "uint8", P::name, x_zero_point, w_zero_point);
      ++failures;
    }
  }
  return iterations;
}


}  // namespace statiq::device_test
