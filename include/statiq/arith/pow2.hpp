// statiq/arith/pow2.hpp — the `pow2` profile: Akida 2.0 / QuantizeML fixed point, outputs
// rescaled by an 8-bit mantissa and a shift that rounds half up; Add/Concat align by shifts.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "statiq/arith/profile.hpp"
#include "statiq/arith/rounding.hpp"

namespace statiq::arith {

struct pow2 {
  static constexpr const char* name = "pow2";
  static constexpr int accumulator_bits = 32;
  static constexpr bool supports_zero_points = true;  // the uint8 input conv folds it in the bias
  static constexpr bool supports_per_channel = true;

  // y = acc * mantissa * 2^-shift; shift <= 0 is an exact left shift by -shift.
  struct channel_params {
    std::uint8_t mantissa;
    int shift;
  };

  // accumulator_clip: a clipped-ReLU bound in accumulator units. QuantizeML applies the
  // activation on the accumulator, before the rescale (Conv -> ReLU -> [GAP] -> rescale), so
  // min(acc, clip) then rescale is not the same as clamping the output. "No clip" is the max.
  struct output_params {
    std::int32_t lo;
    std::int32_t hi;
    std::int64_t accumulator_clip = std::numeric_limits<std::int64_t>::max();
  };

  static constexpr std::int64_t no_accumulator_clip = std::numeric_limits<std::int64_t>::max();

  // floor(x / 2^s + 1/2): QuantizeML's FixedPoint.rescale computes floor(x * 2^-s + 0.5)
  // "to work around banker's rounding"; s <= 0 is exact.
  static constexpr std::int64_t shift_round_half_up(std::int64_t x, int s) {
    return arith::shift_round_half_up(x, s);
  }

  static constexpr std::int32_t requantize(std::int64_t acc, const channel_params& ch,
                                           const output_params& out) {
    const std::int64_t clipped = acc < out.accumulator_clip ? acc : out.accumulator_clip;
    const std::int64_t y = shift_round_half_up(clipped * ch.mantissa, ch.shift);
    return static_cast<std::int32_t>(saturate(y, out.lo, out.hi));
  }

  // FixedPoint.quantize (offline): RNE(x * 2^F) in float32 (tf.math.round is half-to-even).
  // The result is not saturated; FixedPoint then clips it to the value bits (saturate_value_bits).
  static constexpr std::int64_t to_fixed_point(float x, int frac_bits) {
    return round_half_even(x * pow2_f32(frac_bits));
  }

  // FixedPoint clips to [-2^vb, 2^vb - 1] (value_bits exclude the sign).
  static constexpr std::int64_t saturate_value_bits(std::int64_t v, int value_bits) {
    return saturate(v, -(std::int64_t{1} << value_bits), (std::int64_t{1} << value_bits) - 1);
  }

  // FixedPoint.max_frac_bits: F = vb - ceil(log2(max|x|)), capped at vb (so a zero or tiny
  // range gets vb). Can be negative for ranges beyond 2^vb.
  static int default_frac_bits(float max_abs, int value_bits) {
    if (!(max_abs > 0.0f)) return value_bits;
    const int f = value_bits - ceil_log2(static_cast<double>(max_abs));
    return f < value_bits ? f : value_bits;
  }

  // QFloat.quantize_scales(scale, 8): F_s = 8 - ceil(log2(scale)) (not capped), mantissa =
  // RNE(scale * 2^F_s) clipped to 8 value bits, so it lies in [128, 255]; an exact power of
  // two (or a scale that rounds up to one) gives 256, which the clip turns into 255.
  // The scale's power-of-two part (frac bits of accumulator and output) only moves the
  // shift, so the combined requantization scale converts the same way: y = acc * M * 2^-F_s.
  // QFloat scales are float32, so the scale is rounded to float32 first; scale * 2^F_s is then
  // exact. [inferred] ceil(log2) is exact here; TF evaluates it with a float32 log2, which can
  // differ for a scale within one float32 ulp above a power of two.
  static channel_params from_scale(double scale) {
    const float s = static_cast<float>(scale);
    const int frac_bits = 8 - ceil_log2(static_cast<double>(s));
    const std::int64_t m = round_half_even(s * pow2_f32(frac_bits));
    return {static_cast<std::uint8_t>(m > 255 ? 255 : m), frac_bits};
  }

  // --- parameters from real scales (powers of two: scale = 2^-frac_bits) -----------------

  // tf.math.round: half to even.
  static constexpr std::int64_t round_real(float v) { return round_half_even(v); }

  // Conv / Dense output channel: the requantization scale x * w / y (in double), `count`
  // accumulators summed (a fused average) dividing it.
  static channel_params channel(float x_scale, float w_scale, float y_scale, int count = 1) {
    return from_scale(static_cast<double>(x_scale) * w_scale / y_scale / count);
  }

  // The zero point is 0 but for the uint8 input convolution, which folds it into the bias.
  static constexpr output_params output(scale_zero_point, output_bounds b,
                                        std::int64_t accumulator_clip = no_accumulator_clip) {
    return {b.lo, b.hi, accumulator_clip};
  }

  // A stand-alone average pool: the channel of a 1x1 convolution with unit weights over `count` inputs.
  static channel_params average_channel(float x_scale, float y_scale, int count) {
    return channel(x_scale, 1.0f, y_scale, count);
  }

  // F of a scale 2^-F (exact: pow2 scales are powers of two).
  static int frac_bits_of(float scale) {
    int e = 0;
    std::frexp(scale, &e);  // scale = 0.5 * 2^e
    return 1 - e;
  }

  // Add: both inputs left-shifted to the larger frac_bits (exact), summed, then the output
  // rescale and saturation. "average" is the same with the output shift one larger.
  struct add_params {
    int a_shift;
    int b_shift;
    channel_params output;  // {1, 0} when the sum is already at the output frac_bits
    std::int32_t lo;
    std::int32_t hi;
  };

  static constexpr add_params make_add(int a_frac_bits, int b_frac_bits, channel_params output,
                                       std::int32_t lo, std::int32_t hi) {
    const int aligned = a_frac_bits > b_frac_bits ? a_frac_bits : b_frac_bits;
    return {aligned - a_frac_bits, aligned - b_frac_bits, output, lo, hi};
  }

  // From the tensors' scales: the sum, aligned at the larger frac_bits, shifts right to the output's.
  static add_params add_from(scale_zero_point a, scale_zero_point b, scale_zero_point y, output_bounds bounds) {
    const int fa = frac_bits_of(a.scale), fb = frac_bits_of(b.scale), aligned = fa > fb ? fa : fb;
    return make_add(fa, fb, {1, aligned - frac_bits_of(y.scale)}, bounds.lo, bounds.hi);
  }

  static constexpr std::int32_t add(std::int32_t a, std::int32_t b, const add_params& p) {
    const std::int64_t sum = shift_left(a, p.a_shift) + shift_left(b, p.b_shift);
    const std::int64_t y = shift_round_half_up(sum * p.output.mantissa, p.output.shift);
    return static_cast<std::int32_t>(saturate(y, p.lo, p.hi));
  }

  // Concat input: left shift to the common frac_bits, then an optional (M, S) rescale.
  struct rescale_params {
    int shift;
    channel_params output;  // {1, 0}: alignment only
    std::int32_t lo;
    std::int32_t hi;
  };

  // To the output's frac_bits: an exact left shift, or a right shift rounding half up.
  static rescale_params rescale_from(scale_zero_point x, scale_zero_point y, output_bounds b) {
    const int fx = frac_bits_of(x.scale), fy = frac_bits_of(y.scale);
    return fx <= fy ? rescale_params{fy - fx, {1, 0}, b.lo, b.hi} : rescale_params{0, {1, fx - fy}, b.lo, b.hi};
  }

  static constexpr std::int32_t rescale(std::int32_t q, const rescale_params& p) {
    const std::int64_t y = shift_round_half_up(shift_left(q, p.shift) * p.output.mantissa, p.output.shift);
    return static_cast<std::int32_t>(saturate(y, p.lo, p.hi));
  }
};

static_assert(ArithmeticProfile<pow2>);

}  // namespace statiq::arith
