// tests/device/neon_kernels_test.cpp — the AArch64 NEON kernels (kernels/arm/neon) against the reference
// kernels and the scalar arithmetic, bit for bit, under qemu-aarch64 (device/ builds it twice for the
// aarch64-linux toolchain: -march=armv8-a, plain NEON, and -march=armv8.2-a+dotprod, SDOT; label
// device). Random geometries (kernels 1..7, strides, dilations, asymmetric pads, channel counts that
// are not multiples of 4 or 16, 1x1 outputs), operands over the whole range or pinned to the extremes
// (the largest accumulators), both input signs, w_zero_point 0 or not: first the accumulators (8-bit
// weights, and 1/2/4-bit weights packed in oc16_k4 and, depthwise, tap_major), then whole layers (kernel + fused pool +
// requantization) for every profile, Dense, and each profile's NEON requantization element by element
// against statiq/arith over the int32 range and the parameters' edges. The same kind of suite as
// tests/device/arm_kernels_test.cpp (no Catch2 for aarch64 here): a printed description of the first
// differences, exit status 0 only if all agree.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
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

using namespace statiq;

#if !defined(STATIQ_KERNELS_ARM_NEON)
int main() {
  std::printf("neon kernels: not built (STATIQ_REFERENCE_KERNELS, or not AArch64 NEON): nothing compared\n");
  return 1;
}
#else
#include "kernel_differential.hpp"

using namespace statiq::device_test;

namespace {

// Packed Bits-wide weights in the group-1 kernel (oc16_k4, widened by TBL/USHL/SSHR) and the
// depthwise one (tap_major, widened by USHL/SSHR): accumulators against the reference kernel,
// weights over the whole Bits range or pinned to its extremes. `depthwise` counts those.
template <int Bits>
int compare_packed(int iterations, int& depthwise) {
  constexpr int wlo = -(1 << (Bits - 1)), whi = (1 << (Bits - 1)) - 1;
  int compared = 0;
  for (int iter = 0; iter < iterations; ++iter) {
    const bool dw = coin(0.4);
    ConvAttributes a = random_conv(dw);
    if (!dw && coin(0.2))
      a = ConvAttributes{.input = {1, 1, pick({1, 5, 16, 64, 100, 257})}, .filters = pick({1, 10, 16, 17, 33})};
    const bool signed_input = coin();
    random_operands(std::size_t(a.input.size()), weight_count(a), a.filters, signed_input);
    const int mode = uniform(0, 2);
    for (std::size_t i = 0; i < weight_count(a); ++i) w_values[i] = mode == 0 ? wlo : mode == 1 ? whi : uniform(wlo, whi);
    const kernels::ConvKernel k = conv_kernel(a, weight_layout(a, false));
    // One channel in, one out: depthwise and group 1 at once, run as the group-1 convolution.
    const kernels::ConvKernel want =
        a.group == 1 ? kernels::ConvKernel::conv2d_neon : kernels::ConvKernel::depthwise_conv2d_neon;
    depthwise += a.group != 1;
    if (k != want) {
      describe("packed weights not run by the NEON kernel", a, signed_input);
      ++failures;
      continue;
    }
    const bool ok = signed_input ? accumulators_agree<Bits, std::int8_t>(a, k) : accumulators_agree<Bits, std::uint8_t>(a, k);
    if (!ok) {
      std::printf("(%d-bit weights) ", Bits);
      describe(kernels::conv_kernel_name(k), a, signed_input);
      ++failures;
    }
    ++compared;
  }
  return compared;
}

// An accumulator over the int32 range, its extremes, small values and ties' neighbourhoods.
std::int32_t random_accumulator() {
  const int kind = uniform(0, 7);
  return kind == 0   ? std::numeric_limits<std::int32_t>::min()
         : kind == 1 ? std::numeric_limits<std::int32_t>::max()
         : kind == 2 ? uniform(-3, 3)
         : kind == 3 ? uniform(-(1 << 16), 1 << 16)
                     : static_cast<std::int32_t>(rng()());
}

// One profile's NEON output stage against its scalar definition (arith::requantize_gemm where the
// layer is a GEMM), element by element, both output types; `channel` draws a channel's parameters.
// accumulator(ch) draws an accumulator for a channel; by default random_accumulator().
template <class P, class Channel, class Run, class Accumulator = std::int32_t (*)(const typename P::channel_params&)>
int compare_requantize(const char* what, int iterations, Channel&& channel, Run&& run, bool gemm = false,
                       Accumulator accumulator = [](const typename P::channel_params&) { return random_accumulator(); }) {
  constexpr int pixels = 3, channels = 37;
  std::int32_t acc[pixels * channels];
  typename P::channel_params ch[channels];
  std::int8_t y_signed[pixels * channels];
  std::uint8_t y_unsigned[pixels * channels];
  int compared = 0, shown = 0;
  for (int iter = 0; iter < iterations; ++iter) {
    for (int c = 0; c < channels; ++c) ch[c] = channel();
    for (int i = 0; i < pixels * channels; ++i) acc[i] = accumulator(ch[i % channels]);
    const bool s = std::is_same_v<P, arith::gemmini> || (!std::is_same_v<P, arith::akida_v1> && coin());
    const typename P::output_params out = random_output<P>(s);
    if (s) run(acc, std::size_t(channels), pixels, channels, ch, out, y_signed);
    else run(acc, std::size_t(channels), pixels, channels, ch, out, y_unsigned);
    for (int p = 0; p < pixels; ++p)
      for (int c = 0; c < channels; ++c) {
        const int i = p * channels + c;
        std::int32_t want;
        if constexpr (arith::HasGemmRequantize<P>) want = gemm ? P::requantize_gemm(acc[i], ch[c], out) : P::requantize(acc[i], ch[c], out);
        else want = P::requantize(acc[i], ch[c], out);
        const std::int32_t got = s ? std::int32_t(y_signed[i]) : std::int32_t(y_unsigned[i]);
        ++compared;
        if (got != want) {
          if (shown++ < 10) std::printf("MISMATCH requantize %s: acc %ld channel %d: %ld, want %ld\n", what, long(acc[i]), c, long(got), long(want));
          ++failures;
        }
      }
  }
  return compared;
}

// TFLite multipliers from QuantizeMultiplier's range and its edges; shifts from -31 to 1, and left
// shifts past 31 (which wrap to 0) for the double-rounding stages.
template <class P>
typename P::channel_params tflite_channel(bool wide_left) {
  const int kind = uniform(0, 9);
  const std::int32_t m = kind == 0 ? 0 : kind == 1 ? 0x7fffffff : kind == 2 ? (1 << 30) : uniform(1 << 30, 0x7fffffff);
  const int shift = wide_left && coin(0.1) ? uniform(1, 33) : coin(0.1) ? uniform(-31, -25) : uniform(-20, 1);
  return {m, shift};
}

int compare_requantizations() {
  namespace neon = kernels::arm::neon;
  int n = 0;
  n += compare_requantize<arith::qlinear>(
      "qlinear", 200,
      [] {
        // Powers of two (ties in reach), ordinary scales, and large ones (saturation).
        const int kind = uniform(0, 2);
        return arith::qlinear::channel_params{kind == 0 ? 1.0f / float(1 << uniform(0, 20))
                                              : kind == 1 ? std::uniform_real_distribution<float>(1e-9f, 0.02f)(rng())
                                                          : std::uniform_real_distribution<float>(0.5f, 300.0f)(rng())};
      },
      [](const std::int32_t* acc, std::size_t ld, int pixels, int channels, const arith::qlinear::channel_params* ch,
         const arith::qlinear::output_params& out, auto* y) {
        neon::requantize_qlinear(acc, ld, pixels, channels, reinterpret_cast<const float*>(ch), out.zero_point, out.lo,
                                 out.hi, y);
      });
  n += compare_requantize<arith::gemmini>(
      "gemmini", 100,
      [] { return arith::gemmini::channel_params{coin() ? 1.0f / float(1 << uniform(0, 20)) : std::uniform_real_distribution<float>(1e-9f, 2.0f)(rng())}; },
      [](const std::int32_t* acc, std::size_t ld, int pixels, int channels, const arith::gemmini::channel_params* ch,
         const arith::gemmini::output_params& out, auto* y) {
        neon::requantize_qlinear(acc, ld, pixels, channels, reinterpret_cast<const float*>(ch), 0,
                                 std::max(out.lo, arith::gemmini::int8_min), std::min(out.hi, arith::gemmini::int8_max), y);
      });
  const auto tflite_run = [](neon::tflite_output_stage stage) {
    return [stage](const std::int32_t* acc, std::size_t ld, int pixels, int channels, const auto* ch, const auto& out,
                   auto* y) {
      neon::requantize_tflite(stage, acc, ld, pixels, channels, reinterpret_cast<const std::int32_t*>(ch),
                              out.zero_point, out.lo, out.hi, y);
    };
  };
  n += compare_requantize<arith::tflite>("tflite (double rounding)", 300, [] { return tflite_channel<arith::tflite>(true); },
                                         tflite_run(neon::tflite_output_stage::gemmlowp));
  n += compare_requantize<arith::tflite_single_rounding>(
      "tflite_single_rounding", 200, [] { return tflite_channel<arith::tflite_single_rounding>(false); },
      tflite_run(neon::tflite_output_stage::single_rounding));
  n += compare_requantize<arith::tflite_x86>("tflite_x86 (ruy)", 200, [] { return tflite_channel<arith::tflite_x86>(true); },
                                             tflite_run(neon::tflite_output_stage::ruy), true);
  n += compare_requantize<arith::pow2>(
      "pow2", 200,
      [] { return arith::pow2::channel_params{static_cast<std::uint8_t>(uniform(0, 255)), coin(0.1) ? uniform(-8, 0) : uniform(1, 40)}; },
      [](const std::int32_t* acc, std::size_t ld, int pixels, int channels, const arith::pow2::channel_params* ch,
         const arith::pow2::output_params& out, auto* y) {
        arith::pow2::output_params o = out;
        const int kind = uniform(0, 2);  // no clip, a ReLU-style clip, one below every int32
        o.accumulator_clip = kind == 0 ? arith::pow2::no_accumulator_clip
                             : kind == 1 ? uniform(0, 1 << 20)
                                         : std::int64_t{std::numeric_limits<std::int32_t>::min()} - 5;
        neon::requantize_pow2(acc, ld, pixels, channels, ch, o, y);
        // The scalar definition compared with must see the same clip: re-run it into y for the check.
        for (int p = 0; p < pixels; ++p)
          for (int c = 0; c < channels; ++c) {
            const auto want = arith::pow2::requantize(acc[std::size_t(p) * ld + std::size_t(c)], ch[c], o);
            if (std::int32_t(y[std::size_t(p) * std::size_t(channels) + std::size_t(c)]) != want) {
              std::printf("MISMATCH requantize pow2 (clip %lld): acc %ld mantissa %d shift %d\n",
                          static_cast<long long>(o.accumulator_clip), long(acc[std::size_t(p) * ld + std::size_t(c)]),
                          int(ch[c].mantissa), ch[c].shift);
              ++failures;
            }
          }
        // Then as the unclipped rule, which compare_requantize checks.
        neon::requantize_pow2(acc, ld, pixels, channels, ch, out, y);
      });
  n += compare_requantize<arith::akida_v1>(
      "akida_v1", 200,
      // Steps whose reciprocal rounds below it in double (49 * (1/49) < 1), small and large ones.
      [] {
        const int step = coin(0.4) ? pick({1, 2, 3, 49, 98, 103, 196, 12345}) : uniform(1, 1 << 20);
        return arith::akida_v1::channel_params{uniform(-(1 << 24), 1 << 24), step};
      },
      [](const std::int32_t* acc, std::size_t ld, int pixels, int channels, const arith::akida_v1::channel_params* ch,
         const arith::akida_v1::output_params& out, auto* y) {
        neon::requantize_akida_v1(acc, ld, pixels, channels, ch, out, y);
      },
      false,
      // Mostly on and next to the levels' boundaries (threshold + k * step), where a quotient is an integer.
      [](const arith::akida_v1::channel_params& ch) {
        if (coin(0.2)) return random_accumulator();
        return static_cast<std::int32_t>(std::int64_t{ch.threshold} + std::int64_t{uniform(-1, 17)} * ch.step + uniform(-1, 1));
      });
  return n;
}

// kernels::max_pool / window_sum / global_sum (the NEON ones in this build) against the reference
// pooling, random windows, strides and pads, channel counts off the vector widths, extreme values.
template <class T>
int compare_pooling(int iterations) {
  static T x[max_inputs], y_neon[max_outputs], y_ref[max_outputs];
  static std::int32_t s_neon[max_outputs], s_ref[max_outputs];
  int compared = 0;
  for (int iter = 0; iter < iterations; ++iter) {
    const Kernel k{uniform(1, 4), uniform(1, 4)};
    const Stride st{uniform(1, 3), uniform(1, 3)};
    const Pads pads{uniform(0, k.h - 1), uniform(0, k.w - 1), uniform(0, k.h - 1), uniform(0, k.w - 1)};
    const Shape in{uniform(k.h, 9), uniform(k.w, 9), pick({1, 3, 4, 7, 8, 15, 16, 17, 31, 33, 64})};
    const Shape out = window_output_shape(in, in.c, k, st, pads, Dilation{1, 1});
    if (out.h <= 0 || out.w <= 0 || std::size_t(in.size()) > max_inputs || std::size_t(out.size()) > max_outputs) continue;
    const bool extremes = coin(0.3);
    for (int i = 0; i < in.size(); ++i) {
      if constexpr (sizeof(T) == 4) x[i] = extremes ? (coin() ? std::numeric_limits<std::int32_t>::min() : std::numeric_limits<std::int32_t>::max())
                                                    : static_cast<std::int32_t>(rng()());
      else x[i] = static_cast<T>(extremes ? (coin() ? std::numeric_limits<T>::min() : std::numeric_limits<T>::max()) : uniform(std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
    }
    kernels::max_pool(in, out, k, st, pads, static_cast<const T*>(x), y_neon);
    kernels::reference::max_pool(in, out, k, st, pads, static_cast<const T*>(x), y_ref);
    bool ok = std::equal(y_neon, y_neon + out.size(), y_ref);
    if constexpr (sizeof(T) == 1) {
      const int zp = uniform(std::numeric_limits<T>::min(), std::numeric_limits<T>::max());
      kernels::window_sum(in, out, k, st, pads, static_cast<const T*>(x), zp, s_neon);
      kernels::reference::window_sum(in, out, k, st, pads, static_cast<const T*>(x), zp, s_ref);
      ok = ok && std::equal(s_neon, s_neon + out.size(), s_ref);
      kernels::global_sum(in, static_cast<const T*>(x), zp, s_neon);
      kernels::reference::global_sum(in, static_cast<const T*>(x), zp, s_ref);
      ok = ok && std::equal(s_neon, s_neon + in.c, s_ref);
    }
    if (!ok) {
      std::printf("MISMATCH pooling (%zu-byte elements): in %dx%dx%d kernel %dx%d strides %dx%d pads %d,%d,%d,%d\n",
                  sizeof(T), in.h, in.w, in.c, k.h, k.w, st.h, st.w, pads.top, pads.left, pads.bottom, pads.right);
      ++failures;
    }
    ++compared;
  }
  return compared;
}

}  // namespace

int main() {
  int conv = 0, depthwise = 0;
  for (int iter = 0; iter < 2000; ++iter) {
    const bool dw = coin(0.35);
    const ConvAttributes a = random_conv(dw);
    const kernels::ConvKernel k = conv_kernel(a, weight_layout(a, true));
    // One channel in, one out: depthwise and group 1 at once, run as the group-1 convolution.
    const kernels::ConvKernel want =
        a.group == 1 ? kernels::ConvKernel::conv2d_neon : kernels::ConvKernel::depthwise_conv2d_neon;
    const bool signed_input = coin();
    random_operands(std::size_t(a.input.size()), weight_count(a), a.filters, signed_input);
    if (k != want) {
      describe("not run by the NEON kernel", a, signed_input);
      ++failures;
      continue;
    }
    const bool ok = signed_input ? accumulators_agree<8, std::int8_t>(a, k) : accumulators_agree<8, std::uint8_t>(a, k);
    if (!ok) {
      describe(kernels::conv_kernel_name(k), a, signed_input);
      ++failures;
    }
    (dw ? depthwise : conv) += 1;
  }
  std::printf("neon kernels (%s, %s): %d convolutions, %d depthwise convolutions: accumulators compared\n",
              kernels::isa_name(kernels::isa), kernels::conv_kernel_name(kernels::ConvKernel::conv2d_neon), conv,
              depthwise);
  int packed_depthwise = 0;
  const int packed = compare_packed<4>(200, packed_depthwise) + compare_packed<2>(130, packed_depthwise) +
                     compare_packed<1>(130, packed_depthwise);
  std::printf("neon kernels: %d convolutions (%d depthwise) with packed 4/2/1-bit weights: accumulators compared\n",
              packed, packed_depthwise);
  int layers = 0;
  layers += compare_profile<arith::qlinear>(250);
  layers += compare_profile<arith::tflite>(200);
  layers += compare_profile<arith::tflite_single_rounding>(100);
  layers += compare_profile<arith::tflite_x86>(100);
  layers += compare_profile<arith::pow2>(100);
  layers += compare_profile<arith::gemmini>(80);
  layers += compare_profile<arith::akida_v1>(80);
  std::printf("neon kernels: %d layers (kernel, fused pool, requantization) compared\n", layers);
  constexpr kernels::ConvKernel neon = kernels::ConvKernel::conv2d_neon;
  const int dense = compare_dense<arith::qlinear>(120, neon) + compare_dense<arith::tflite>(80, neon) +
                    compare_dense<arith::tflite_x86>(40, neon);
  std::printf("neon kernels: %d dense layers compared\n", dense);
  const int pools = compare_pooling<std::int8_t>(150) + compare_pooling<std::uint8_t>(150) + compare_pooling<std::int32_t>(150);
  std::printf("neon kernels: %d poolings (max, window and global sums; int8, uint8, int32) compared\n", pools);
  const int requantized = compare_requantizations();
  std::printf("neon kernels: %d requantizations (qlinear, gemmini, tflite x3, pow2, akida_v1) compared\n", requantized);
  if (failures > 0 || conv < 1000 || depthwise < 500 || layers < 850 || packed < 450 || packed_depthwise < 150 ||
      pools < 300) {
    std::printf("neon kernels: %d mismatches\n", failures);
    return 1;
  }
  std::printf("neon kernels: bit-exact against the reference kernels\n");
  return 0;
}
#endif  // STATIQ_KERNELS_ARM_NEON
