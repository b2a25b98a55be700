// statiq/arith/tflite.hpp — the `tflite`, `tflite_single_rounding` and `tflite_x86` profiles: TFLite /
// TFLM / CMSIS-NN integer requantization (QuantizeMultiplier, gemmlowp SRDHM + RoundingDivideByPOT),
// and TFLite's builtin kernels on x86-64 (ruy's output stage for CONV_2D / FULLY_CONNECTED).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "statiq/arith/profile.hpp"
#include "statiq/arith/rounding.hpp"

namespace statiq::arith {

// double_rounding is TFLite's default; single_rounding is the TFLITE_SINGLE_ROUNDING build
// flag of TFLM / CMSIS-NN.
enum class tflite_rounding { double_rounding, single_rounding };

// Which of TFLite's kernels the profile reproduces. reference: TFLite's reference kernels, TFLite
// Micro and CMSIS-NN (every operator through gemmlowp's MultiplyByQuantizedMultiplier, or the
// single-rounding one). x86_builtin: TFLite's builtin (optimized) kernels on an x86-64 CPU with AVX
// (measured on TFLite 2.9, tests/tflite), which differ in two operators: CONV_2D and
// FULLY_CONNECTED run their GEMM through ruy, whose x86 output stage rounds both halves of the
// double rounding half up (requantize_gemm); the float QUANTIZE divides by the scale in double.
// DEPTHWISE_CONV_2D, ADD, MEAN, AVERAGE_POOL_2D and the int8 QUANTIZE keep gemmlowp's.
enum class tflite_kernels { reference, x86_builtin };

template <tflite_rounding R, tflite_kernels K = tflite_kernels::reference>
struct tflite_profile {
  static_assert(K == tflite_kernels::reference || R == tflite_rounding::double_rounding,
                "statiq: TFLite's builtin kernels use double rounding (there is no single-rounding build of them)");
  static constexpr tflite_rounding rounding = R;
  static constexpr tflite_kernels kernels = K;
  static constexpr const char* name = K == tflite_kernels::x86_builtin         ? "tflite_x86"
                                      : R == tflite_rounding::double_rounding ? "tflite"
                                                                              : "tflite_single_rounding";
  static constexpr int accumulator_bits = 32;
  static constexpr bool supports_zero_points = true;
  static constexpr bool supports_per_channel = true;

  // Quantize (float -> int8) rounds x / scale half away from zero, then adds the zero point:
  // TfLiteRound in reference_ops::AffineQuantize, which TFLite Micro runs (statiq/layers/quantize.hpp).
  static constexpr bool quantize_rounds_half_away_from_zero = true;
  // TFLite's builtin QUANTIZE on x86-64 (optimized_ops::AffineQuantize without NEON) divides x by the
  // scale widened to double, where the reference kernel (and TFLite Micro) divides in float: a
  // different integer where the float quotient rounds onto or across a tie (measured in tests/tflite
  // on near-tie inputs, which a float division, or adding the zero point first, does not explain).
  static constexpr bool quantize_divides_in_double = K == tflite_kernels::x86_builtin;

  // A quantized multiplier: value = multiplier * 2^(shift - 31); shift > 0 is a left shift.
  struct channel_params {
    std::int32_t multiplier;
    int shift;
  };

  struct output_params {
    std::int32_t zero_point;
    std::int32_t lo;
    std::int32_t hi;
  };

  // The per-channel effective scale of conv / fully connected: double(s_in) * double(s_w[c])
  // / double(s_out) (PopulateConvolutionQuantizationParams).
  static constexpr double effective_multiplier(float input_scale, float weight_scale,
                                               float output_scale) {
    return static_cast<double>(input_scale) * static_cast<double>(weight_scale) /
           static_cast<double>(output_scale);
  }

  // QuantizeMultiplier (quantization_util.cc): q = frexp(M), q_fixed = round-half-away(q * 2^31);
  // q_fixed == 2^31 is halved with ++shift; shift < -31 flushes to zero. The single-rounding
  // build also saturates shift > 30 to (2^31 - 1, 30).
  static channel_params quantize_multiplier(double m) {
    if (m == 0.0) return {0, 0};
    int shift = 0;
    const double q = std::frexp(m, &shift);
    std::int64_t q_fixed = round_half_away(q * static_cast<double>(std::int64_t{1} << 31));
    if (q_fixed == (std::int64_t{1} << 31)) {
      q_fixed /= 2;
      ++shift;
    }
    if (shift < -31) {
      shift = 0;
      q_fixed = 0;
    }
    if constexpr (R == tflite_rounding::single_rounding) {
      if (shift > 30) {
        shift = 30;
        q_fixed = (std::int64_t{1} << 31) - 1;
      }
    }
    return {static_cast<std::int32_t>(q_fixed), shift};
  }

  // --- parameters from real scales and zero points (TFLite's converter) --------------------

  // TfLiteRound: half away from zero.
  static constexpr std::int64_t round_real(float v) { return round_half_away(static_cast<double>(v)); }

  // Conv / fully connected output channel; `count` accumulators summed (a fused average) divide
  // the effective scale.
  static channel_params channel(float x_scale, float w_scale, float y_scale, int count = 1) {
    return quantize_multiplier(effective_multiplier(x_scale, w_scale, y_scale) / count);
  }

  static constexpr output_params output(scale_zero_point y, output_bounds b) { return {y.zero_point, b.lo, b.hi}; }

  // A stand-alone average pool: the channel of a 1x1 convolution with unit weights over `count` inputs.
  static channel_params average_channel(float x_scale, float y_scale, int count) {
    return channel(x_scale, 1.0f, y_scale, count);
  }

  // A mean over the whole map (GlobalAveragePool; TFLite's int8 MEAN over H and W,
  // reference_integer_ops::Mean, which TFLM runs too): the sum of (x - zp_in) is requantized with
  // QuantizeMultiplier(s_in / s_out), then divided by the count rounding half away from zero, then
  // offset by zp_out and clamped. Two roundings, where a fused 1/count would make one.
  static constexpr bool divides_mean_after_requantize = true;
  static channel_params mean_channel(float x_scale, float y_scale) {
    return quantize_multiplier(static_cast<double>(x_scale) / static_cast<double>(y_scale));
  }
  static constexpr std::int32_t mean(std::int32_t sum, const channel_params& ch, int count, const output_params& out) {
    std::int32_t r = multiply_by_quantized_multiplier(sum, ch.multiplier, ch.shift);
    r = r > 0 ? (r + count / 2) / count : (r - count / 2) / count;
    return static_cast<std::int32_t>(saturate(std::int64_t{r} + out.zero_point, out.lo, out.hi));
  }

  // A windowed AveragePool (TFLite's int8 AVERAGE_POOL_2D at the input's scale, then a QUANTIZE to
  // the output's): the window's integers (sum of x - zp_in, plus count * zp_in) divided by the count
  // rounding half away from zero, then requantized with QuantizeMultiplier(s_in / s_out) (`ch`).
  static constexpr std::int32_t average_pool(std::int32_t sum, const channel_params& ch, int count,
                                             std::int32_t in_zero_point, const output_params& out) {
    const std::int32_t raw = sum + count * in_zero_point;
    const std::int32_t average = raw > 0 ? (raw + count / 2) / count : (raw - count / 2) / count;
    const std::int32_t r = multiply_by_quantized_multiplier(average - in_zero_point, ch.multiplier, ch.shift);
    return static_cast<std::int32_t>(saturate(std::int64_t{r} + out.zero_point, out.lo, out.hi));
  }

  // gemmlowp SaturatingRoundingDoublingHighMul: (a*b + nudge) / 2^31 truncating, nudge 2^30
  // (1 - 2^30 for a negative product); INT_MIN * INT_MIN saturates to INT_MAX.
  static constexpr std::int32_t saturating_rounding_doubling_high_mul(std::int32_t a,
                                                                       std::int32_t b) {
    if (a == b && a == std::numeric_limits<std::int32_t>::min())
      return std::numeric_limits<std::int32_t>::max();
    const std::int64_t ab = static_cast<std::int64_t>(a) * static_cast<std::int64_t>(b);
    const std::int64_t nudge = ab >= 0 ? (std::int64_t{1} << 30) : (1 - (std::int64_t{1} << 30));
    return static_cast<std::int32_t>((ab + nudge) / (std::int64_t{1} << 31));
  }

  // gemmlowp RoundingDivideByPOT: x / 2^exponent rounded half away from zero, 0 <= exponent <= 31.
  static constexpr std::int32_t rounding_divide_by_pot(std::int32_t x, int exponent) {
    const std::int32_t mask = static_cast<std::int32_t>((std::int64_t{1} << exponent) - 1);
    const std::int32_t remainder = x & mask;
    const std::int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
  }

  // MultiplyByQuantizedMultiplier. Double rounding: RoundingDivideByPOT(SRDHM(x * 2^left,
  // m), right). TFLite multiplies x * 2^left in int32; an overflow there is undefined in the
  // source and wraps on every target, which is what this does. Single rounding:
  // (x * m + 2^(30 - shift)) >> (31 - shift) in int64.
  static constexpr std::int32_t multiply_by_quantized_multiplier(std::int32_t x,
                                                                 std::int32_t multiplier,
                                                                 int shift) {
    if constexpr (R == tflite_rounding::double_rounding) {
      const int left = shift > 0 ? shift : 0;
      const int right = shift > 0 ? 0 : -shift;
      const auto shifted = static_cast<std::int32_t>(
          static_cast<std::uint32_t>(static_cast<std::int64_t>(x) << left));
      return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, multiplier), right);
    } else {
      const int total_shift = 31 - shift;
      const std::int64_t round = std::int64_t{1} << (total_shift - 1);
      return static_cast<std::int32_t>(
          (static_cast<std::int64_t>(x) * static_cast<std::int64_t>(multiplier) + round) >> total_shift);
    }
  }

  // Output: sat(r + zp_out, act_min, act_max). The input zero point is already in the
  // accumulator (bias' = bias - zp_in * sum(w)).
  static constexpr std::int32_t requantize(std::int64_t acc, const channel_params& ch,
                                           const output_params& out) {
    const std::int32_t r =
        multiply_by_quantized_multiplier(static_cast<std::int32_t>(acc), ch.multiplier, ch.shift);
    return static_cast<std::int32_t>(saturate(std::int64_t{r} + out.zero_point, out.lo, out.hi));
  }

  // ruy's x86 output stage (kernel_avx.cc, kernel_avx2_fma.cc, kernel_avx512.cc, since ruy's
  // rounding change of October 2020), the one TFLite's CONV_2D and FULLY_CONNECTED run on a CPU with
  // AVX: x << left in 32 bits (wrapping), then hi = (x * m + 2^30) >> 31 and (hi + 2^(right - 1))
  // >> right, both arithmetic (floor) shifts of exact 64-bit values: each rounding half up, toward
  // +inf, where gemmlowp rounds a negative tie away from zero. The shifts equal ruy's own (which
  // special-cases an int32 overflow of hi + nudge, and gets the floor's result there too).
  // ruy's portable C++ path (a CPU without AVX) rounds once instead: this profile models AVX.
  static constexpr std::int32_t ruy_multiply_by_quantized_multiplier(std::int32_t x, std::int32_t multiplier,
                                                                     int shift) {
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    // vpsllvd: a count above 31 gives 0.
    const std::int64_t shifted = left > 31 ? 0
                                           : static_cast<std::int32_t>(static_cast<std::uint32_t>(
                                                 static_cast<std::uint64_t>(static_cast<std::uint32_t>(x)) << left));
    const std::int64_t hi = (shifted * multiplier + (std::int64_t{1} << 30)) >> 31;
    const std::int64_t nudge = right > 0 ? std::int64_t{1} << (right - 1) : 0;
    return static_cast<std::int32_t>((hi + nudge) >> right);
  }

  // The output stage of a GEMM operator (CONV_2D, FULLY_CONNECTED), in a profile of TFLite's x86
  // builtin kernels: ruy's multiplier, then + zp_out in 32 bits (vpaddd, wrapping, as ruy adds it)
  // and the clamp. Other layers keep requantize (arith::requantize_gemm picks).
  static constexpr std::int32_t requantize_gemm(std::int64_t acc, const channel_params& ch, const output_params& out)
    requires(K == tflite_kernels::x86_builtin)
  {
    const std::int32_t r = ruy_multiply_by_quantized_multiplier(static_cast<std::int32_t>(acc), ch.multiplier, ch.shift);
    const auto with_zero_point =
        static_cast<std::int32_t>(static_cast<std::uint32_t>(r) + static_cast<std::uint32_t>(out.zero_point));
    return with_zero_point < out.lo ? out.lo : with_zero_point > out.hi ? out.hi : with_zero_point;
  }

  // int8 Add (reference_integer_ops::Add, TFLM add.cc): inputs offset by -zp, shifted left by
  // 20, each scaled by s_i / (2 max(s_a, s_b)), summed, then scaled by
  // 2 max(s_a, s_b) / (2^20 s_out), + zp_out, clamped.
  struct add_params {
    std::int32_t a_offset;  // -a_zero_point
    std::int32_t b_offset;
    int left_shift;
    channel_params a;
    channel_params b;
    channel_params output;
    std::int32_t output_offset;  // y_zero_point
    std::int32_t lo;
    std::int32_t hi;
  };

  static add_params make_add(float a_scale, std::int32_t a_zero_point, float b_scale,
                             std::int32_t b_zero_point, float y_scale, std::int32_t y_zero_point,
                             std::int32_t lo, std::int32_t hi) {
    constexpr int left_shift = 20;  // 15 for int16
    // Types as in add.cc: 2 * max(float, float) is a float, widened to double.
    const double twice_max = static_cast<double>(2 * (a_scale > b_scale ? a_scale : b_scale));
    const double ra = static_cast<double>(a_scale) / twice_max;
    const double rb = static_cast<double>(b_scale) / twice_max;
    const double ro =
        twice_max / static_cast<double>(static_cast<float>(1 << left_shift) * y_scale);
    return {-a_zero_point,          -b_zero_point,          left_shift,
            quantize_multiplier(ra), quantize_multiplier(rb), quantize_multiplier(ro),
            y_zero_point,           lo,                     hi};
  }

  static add_params add_from(scale_zero_point a, scale_zero_point b, scale_zero_point y, output_bounds bounds) {
    return make_add(a.scale, a.zero_point, b.scale, b.zero_point, y.scale, y.zero_point, bounds.lo, bounds.hi);
  }

  static constexpr std::int32_t add(std::int32_t a, std::int32_t b, const add_params& p) {
    const std::int32_t sa = (a + p.a_offset) * (1 << p.left_shift);
    const std::int32_t sb = (b + p.b_offset) * (1 << p.left_shift);
    const std::int32_t scaled_a = multiply_by_quantized_multiplier(sa, p.a.multiplier, p.a.shift);
    const std::int32_t scaled_b = multiply_by_quantized_multiplier(sb, p.b.multiplier, p.b.shift);
    const std::int32_t raw =
        multiply_by_quantized_multiplier(scaled_a + scaled_b, p.output.multiplier, p.output.shift);
    return static_cast<std::int32_t>(saturate(std::int64_t{raw} + p.output_offset, p.lo, p.hi));
  }

  // Requantize (reference_ops::Requantize, the Quantize op int8 -> int8):
  // MultiplyByQuantizedMultiplier(q - zp_in, QuantizeMultiplier(s_in / s_out)) + zp_out, clamped.
  struct rescale_params {
    std::int32_t in_zero_point;
    channel_params multiplier;
    std::int32_t out_zero_point;
    std::int32_t lo;
    std::int32_t hi;
  };

  static rescale_params make_rescale(float in_scale, std::int32_t in_zero_point, float out_scale,
                                     std::int32_t out_zero_point, std::int32_t lo, std::int32_t hi) {
    return {in_zero_point,
            quantize_multiplier(static_cast<double>(in_scale) / static_cast<double>(out_scale)),
            out_zero_point, lo, hi};
  }

  static rescale_params rescale_from(scale_zero_point x, scale_zero_point y, output_bounds b) {
    return make_rescale(x.scale, x.zero_point, y.scale, y.zero_point, b.lo, b.hi);
  }

  static constexpr std::int32_t rescale(std::int32_t q, const rescale_params& p) {
    const std::int32_t r = multiply_by_quantized_multiplier(q - p.in_zero_point, p.multiplier.multiplier,
                                                            p.multiplier.shift);
    return static_cast<std::int32_t>(saturate(std::int64_t{r} + p.out_zero_point, p.lo, p.hi));
  }
};

using tflite = tflite_profile<tflite_rounding::double_rounding>;
using tflite_single_rounding = tflite_profile<tflite_rounding::single_rounding>;
using tflite_x86 = tflite_profile<tflite_rounding::double_rounding, tflite_kernels::x86_builtin>;

// Any of TFLite's arithmetics: the profiles whose models have a TFLite form (codegen/export).
template <class P>
inline constexpr bool is_tflite_profile = false;
template <tflite_rounding R, tflite_kernels K>
inline constexpr bool is_tflite_profile<tflite_profile<R, K>> = true;

static_assert(ArithmeticProfile<tflite>);
static_assert(ArithmeticProfile<tflite_single_rounding>);
static_assert(ArithmeticProfile<tflite_x86>);
static_assert(HasGemmRequantize<tflite_x86> && !HasGemmRequantize<tflite>);

}  // namespace statiq::arith
