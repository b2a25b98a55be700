// tests/device/arm_kernels_test.cpp — the Arm kernels (kernels/arm) against the reference kernels, bit
// for bit, on the emulated board (built by device/ for a Cortex-M toolchain, run under QEMU; label
// device; on the Cortex-M55 the MVE kernels, and the DSP kernels too): random geometries (kernels 1..7, strides, dilations, asymmetric pads, channel counts that
// are not multiples of 4, 1x1 outputs), extreme operands and zero points, both input signs; first the
// accumulators, then whole layers (kernel + fused pool + requantization) for every profile, and Dense,
// and the Arm requantization of the TFLite profile element by element against arith::tflite.
// The same kind of suite as tests/kernels/fast_kernels_test.cpp, without Catch2 or a heap: static
// buffers, and a printed description of the first difference. Exit status 0 only if all agree.
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
#include "statiq/core/qint.hpp"
#include "statiq/layers/convolution.hpp"
#include "statiq/layers/dense.hpp"

using namespace statiq;

#if !defined(STATIQ_KERNELS_ARM_DSP)
// A build forced to the reference kernels (bench/device/run.sh builds one) or a core without the DSP
// extension: nothing to compare, and the test says so and fails rather than pass unnoticed.
int main() {
  std::printf("arm kernels: not built (STATIQ_REFERENCE_KERNELS, or no DSP extension): nothing compared\n");
  return 1;
}
#else
#include "kernel_differential.hpp"

using namespace statiq::device_test;

namespace {

// The kernels this build selects: MVE on the Cortex-M55, DSP on the M4 and M7.
constexpr kernels::ConvKernel conv_kernel_of_isa = kernels::isa == kernels::Isa::arm_mve
                                                       ? kernels::ConvKernel::conv2d_arm_mve
                                                       : kernels::ConvKernel::conv2d_arm_dsp;
constexpr kernels::ConvKernel depthwise_kernel_of_isa = kernels::isa == kernels::Isa::arm_mve
                                                            ? kernels::ConvKernel::depthwise_conv2d_arm_mve
                                                            : kernels::ConvKernel::depthwise_conv2d_arm_dsp;

// kernels/arm/requantize.hpp against arith::tflite's requantize, element by element: accumulators
// over the whole int32 range and its extremes, multipliers from QuantizeMultiplier's range and its
// edges, shifts from -31 to 33 (left shifts that wrap, and past 31), both output types.
int compare_requantize(int iterations) {
  using P = arith::tflite;
  constexpr int pixels = 3, channels = 37;
  std::int32_t acc[pixels * channels];
  P::channel_params ch[channels];
  std::int8_t y_signed[pixels * channels];
  std::uint8_t y_unsigned[pixels * channels];
  int compared = 0;
  for (int iter = 0; iter < iterations; ++iter) {
    for (int c = 0; c < channels; ++c) {
      const int kind = uniform(0, 9);
      ch[c].multiplier = kind == 0 ? 0 : kind == 1 ? 0x7fffffff : kind == 2 ? (1 << 30) : uniform(1 << 30, 0x7fffffff);
      ch[c].shift = coin(0.1) ? uniform(1, 33) : uniform(-31, 0);
    }
    for (int i = 0; i < pixels * channels; ++i) {
      const int kind = uniform(0, 7);
      acc[i] = kind == 0 ? std::numeric_limits<std::int32_t>::min()
               : kind == 1 ? std::numeric_limits<std::int32_t>::max()
               : kind == 2 ? uniform(-3, 3)
               : kind == 3 ? uniform(-(1 << 16), 1 << 16)
                           : static_cast<std::int32_t>(rng()());
    }
    const bool s = coin();
    const P::output_params out = random_output<P>(s);
    const std::size_t ld = channels;
    if (s) kernels::arm::requantize_tflite(acc, ld, pixels, channels, ch, out.zero_point, out.lo, out.hi, y_signed);
    else kernels::arm::requantize_tflite(acc, ld, pixels, channels, ch, out.zero_point, out.lo, out.hi, y_unsigned);
    for (int p = 0; p < pixels; ++p)
      for (int c = 0; c < channels; ++c) {
        const int i = p * channels + c;
        const std::int32_t want = P::requantize(acc[i], ch[c], out);
        const std::int32_t got = s ? std::int32_t(y_signed[i]) : std::int32_t(y_unsigned[i]);
        ++compared;
        if (got != want) {
          if (failures < 20)
            std::printf("MISMATCH requantize: acc %ld multiplier %ld shift %d zp %ld [%ld, %ld]: %ld, want %ld\n",
                        long(acc[i]), long(ch[c].multiplier), ch[c].shift, long(out.zero_point), long(out.lo),
                        long(out.hi), long(got), long(want));
          ++failures;
        }
      }
  }
  return compared;
}

// What the Cortex-M kernels cannot read goes to the reference kernel: weights packed below a byte
// (a packing target's 1/2/4-bit weights, group 1 or depthwise), depthwise with a channel multiplier above 1 (the kernels
// take input channel = output channel) and grouped convolutions (1 < group < in.c: no Cortex-M
// grouped kernel). Counts the selections that were wrong.
int unsupported_run_reference() {
  int wrong = 0;
  for (int iter = 0; iter < 50; ++iter) {
    ConvAttributes a = random_conv(false);
    for (int bits : {1, 2, 4}) {
      a.bits.w = bits;
      if (conv_kernel(a, weight_layout(a, false)) != kernels::ConvKernel::reference) {
        describe("packed weights given to an Arm kernel", a, false);
        ++wrong;
      }
    }
    ConvAttributes p = random_conv(true);  // depthwise, packed (tap_major, as the x86 and NEON kernels read it)
    for (int bits : {1, 2, 4}) {
      p.bits.w = bits;
      if (conv_kernel(p, weight_layout(p, false)) != kernels::ConvKernel::reference) {
        describe("packed depthwise weights given to an Arm kernel", p, false);
        ++wrong;
      }
    }
    ConvAttributes d = random_conv(true);
    d.filters = d.input.c * pick({2, 3});
    // (One input channel: group 1, an ordinary convolution the group-1 kernel runs.)
    if (d.group > 1 && conv_kernel(d, weight_layout(d, true)) != kernels::ConvKernel::reference) {
      describe("a channel multiplier given to the Arm depthwise kernel", d, false);
      ++wrong;
    }
    const ConvAttributes g = random_grouped();
    if (conv_kernel(g, weight_layout(g, true)) != kernels::ConvKernel::reference) {
      describe("a grouped convolution given to an Arm kernel", g, false);
      ++wrong;
    }
  }
  return wrong;
}

}  // namespace

int main() {
  int conv = 0, depthwise = 0;
  failures += unsupported_run_reference();
  for (int iter = 0; iter < 2000; ++iter) {
    const bool dw = coin(0.35);
    const ConvAttributes a = random_conv(dw);
    const kernels::ConvKernel k = conv_kernel(a, weight_layout(a, true));
    // One channel in, one out: depthwise and group 1 at once, run as the group-1 convolution.
    const kernels::ConvKernel want = a.group == 1 ? conv_kernel_of_isa : depthwise_kernel_of_isa;
    const bool signed_input = coin();
    random_operands(std::size_t(a.input.size()), weight_count(a), a.filters, signed_input);
    if (k != want) {
      describe("not run by the Arm kernel", a, signed_input);
      ++failures;
      continue;
    }
    const bool ok = signed_input ? accumulators_agree<8, std::int8_t>(a, k) : accumulators_agree<8, std::uint8_t>(a, k);
    if (!ok) {
      describe(kernels::conv_kernel_name(k), a, signed_input);
      ++failures;
    }
    if constexpr (kernels::isa == kernels::Isa::arm_mve) {
      // The DSP kernels are built on the M55 too: compare them as well.
      const kernels::ConvKernel dsp =
          a.group == 1 ? kernels::ConvKernel::conv2d_arm_dsp : kernels::ConvKernel::depthwise_conv2d_arm_dsp;
      if (!(signed_input ? accumulators_agree<8, std::int8_t>(a, dsp) : accumulators_agree<8, std::uint8_t>(a, dsp))) {
        describe(kernels::conv_kernel_name(dsp), a, signed_input);
        ++failures;
      }
    }
    (dw ? depthwise : conv) += 1;
  }
  std::printf("arm kernels (%s): %d convolutions, %d depthwise convolutions: accumulators compared\n",
              kernels::isa_name(kernels::isa), conv, depthwise);
  int layers = 0;
  layers += compare_profile<arith::qlinear>(250);
  layers += compare_profile<arith::tflite>(200);
  layers += compare_profile<arith::tflite_single_rounding>(100);
  layers += compare_profile<arith::pow2>(100);
  layers += compare_profile<arith::gemmini>(80);
  layers += compare_profile<arith::akida_v1>(80);
  std::printf("arm kernels: %d layers (kernel, fused pool, requantization) compared\n", layers);
  // Grouped layers run the reference kernel here, on the grouped oc16_k4 order the generator stores.
  const int grouped = compare_profile<arith::qlinear>(30, true) + compare_profile<arith::tflite>(30, true);
  std::printf("arm kernels: %d grouped layers (reference kernel on the grouped oc16_k4 weights) compared\n", grouped);
  int dense = compare_dense<arith::qlinear>(120, conv_kernel_of_isa) +
              compare_dense<arith::tflite>(80, conv_kernel_of_isa);
  std::printf("arm kernels: %d dense layers compared\n", dense);
  const int requantized = compare_requantize(300);
  std::printf("arm kernels: %d tflite requantizations compared\n", requantized);
  if (failures > 0 || conv < 1000 || depthwise < 500 || layers < 750 || grouped < 50) {
    std::printf("arm kernels: %d mismatches\n", failures);
    return 1;
  }
  std::printf("arm kernels: bit-exact against the reference kernels\n");
  return 0;
}
#endif  // STATIQ_KERNELS_ARM_DSP
