// statiq/arith/akida_v1.hpp — the `akida_v1` profile: Akida 1.0 (CNN2SNN) ceiling activation,
// in its float definition and the integer threshold/step form the hardware registers hold.
#pragma once

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "statiq/arith/profile.hpp"
#include "statiq/arith/rounding.hpp"

namespace statiq::arith {

struct akida_v1 {
  static constexpr const char* name = "akida_v1";
  static constexpr int accumulator_bits = 32;
  static constexpr bool supports_zero_points = true;
  static constexpr bool supports_per_channel = true;

  // Integer form, in accumulator units: level = 0 if acc <= threshold, else
  // min(ceil((acc - threshold) / step), 2^bits - 1).
  struct channel_params {
    std::int32_t threshold;
    std::int32_t step;  // >= 1
  };

  // Activation levels: lo = 0, hi = 2^bits - 1 (bits = 1, 2 or 4).
  struct output_params {
    std::int32_t lo;
    std::int32_t hi;
  };

  // The float definition (quantized ReLU, ARITHMETIC.md §3):
  // level = sat(ceil((x - step/2) / step), 0, 2^bits - 1), evaluated in float32.
  static int ceil_activation_level(float x, float step, int bits) {
    const float level = std::ceil((x - step / 2.0f) / step);
    const float top = static_cast<float>((1 << bits) - 1);
    return static_cast<int>(level < 0.0f ? 0.0f : (level > top ? top : level));
  }

  // Why the integer form equals the float one. Let one accumulator unit be worth u, the step
  // D units (step = D u, D integer) and the bias B units (x = (acc + B) u). Then
  // (x - step/2) / step = (n - f) / D with n = acc + B - floor(D/2) and f = 0 (D even) or
  // 1/2 (D odd). Writing n = kD + r, 0 <= r < D: r = 0 gives ceil = k either way; r >= 1 gives
  // k + 1 either way, since 0 < (2r - 1) / 2D < 1. So ceil((x - step/2)/step) = ceil(n / D),
  // i.e. threshold T = floor(D/2) - B, and level >= 1 exactly when acc > T.
  static constexpr std::int32_t requantize(std::int64_t acc, const channel_params& ch,
                                           const output_params& out) {
    const std::int64_t above = acc - ch.threshold;
    const std::int64_t level = above <= 0 ? 0 : (above + ch.step - 1) / ch.step;
    return static_cast<std::int32_t>(saturate(level, out.lo, out.hi));
  }

  // Registers from float scales: acc_scale = value of one accumulator unit (input step times
  // weight 1/sf), step = max_value / (2^bits - 1), bias in real units. D and B are rounded to
  // integers (half to even); the integer form equals the float definition when step and bias
  // are integer multiples of acc_scale, otherwise it is the nearest the registers can hold.
  static channel_params from_scales(double acc_scale, double step, double bias = 0.0) {
    std::int64_t d = round_half_even(step / acc_scale);
    if (d < 1) d = 1;
    const std::int64_t b = round_half_even(bias / acc_scale);
    return {static_cast<std::int32_t>(d / 2 - b), static_cast<std::int32_t>(d)};
  }

  // --- parameters from real scales ---------------------------------------------------------

  static constexpr std::int64_t round_real(float v) { return round_half_even(v); }

  // from_scales() for an output with a zero point (levels of a range reaching below 0): the
  // ceiling of x + zero_point * step, i.e. the threshold lowered by zero_point steps. Throws
  // std::out_of_range when that threshold leaves int32.
  static channel_params channel(double acc_scale, float step, std::int32_t zero_point, double bias) {
    channel_params ch = from_scales(acc_scale, step, bias);
    const std::int64_t threshold = std::int64_t{ch.threshold} - std::int64_t{zero_point} * ch.step;
    if (threshold < INT32_MIN || threshold > INT32_MAX)
      STATIQ_FAIL(std::out_of_range, "the threshold " + std::to_string(threshold) + " does not fit int32");
    ch.threshold = static_cast<std::int32_t>(threshold);
    return ch;
  }

  // The zero point is in the thresholds (channel()); the output is levels.
  static constexpr output_params output(scale_zero_point, output_bounds b) { return {b.lo, b.hi}; }

  // NSoC fire thresholds and steps are 20-bit unsigned registers ("cannot fit in a 20-bit
  // unsigned integer"): tiny BatchNorm gammas make the step blow up.
  static constexpr bool fits_20_bits(const channel_params& ch) {
    constexpr std::int32_t limit = std::int32_t{1} << 20;
    return ch.threshold >= 0 && ch.threshold < limit && ch.step >= 1 && ch.step < limit;
  }

  // Add / Concat are statiq definitions (Akida 1.0 has no such layers on chip): the inputs
  // (activation levels) are aligned by exact left shifts as in pow2, summed, and the sum goes
  // through the ceiling activation of the output.
  struct add_params {
    int a_shift;
    int b_shift;
    channel_params activation;
    std::int32_t lo;
    std::int32_t hi;
  };

  // The alignment of two inputs of steps a_step and b_step: the one with the larger step shifts
  // left by log2 of the ratio, so the sum is in units of min(a_step, b_step), which `activation`
  // (from channel()) is expressed in. Throws std::invalid_argument unless the ratio is a power of two.
  static add_params make_add(float a_step, float b_step, channel_params activation, output_bounds b) {
    int e = 0;
    const double ratio = static_cast<double>(a_step) / b_step;
    if (std::frexp(ratio, &e) != 0.5)
      STATIQ_FAIL(std::invalid_argument, "the input steps do not differ by a power of two");
    const int a_shift = ratio >= 1.0 ? e - 1 : 0, b_shift = ratio >= 1.0 ? 0 : 1 - e;
    return {a_shift, b_shift, activation, b.lo, b.hi};
  }

  static constexpr std::int32_t add(std::int32_t a, std::int32_t b, const add_params& p) {
    const std::int64_t sum = shift_left(a, p.a_shift) + shift_left(b, p.b_shift);
    return requantize(sum, p.activation, {p.lo, p.hi});
  }

  // shift = 0 with activation {0, 1} is the identity on levels in [lo, hi].
  struct rescale_params {
    int shift;
    channel_params activation;
    std::int32_t lo;
    std::int32_t hi;
  };

  // A Concat input: levels of the output's step (and no zero point) pass unchanged; others are
  // shifted left rescale_shift bits and go through the ceiling activation, one input unit being
  // worth step / 2^rescale_shift (the unit `activation` from channel() is expressed in).
  static constexpr int rescale_shift = 8;
  static constexpr rescale_params identity_rescale(output_bounds b) { return {0, {0, 1}, b.lo, b.hi}; }
  static constexpr rescale_params make_rescale(channel_params activation, output_bounds b) {
    return {rescale_shift, activation, b.lo, b.hi};
  }

  static constexpr std::int32_t rescale(std::int32_t q, const rescale_params& p) {
    return requantize(shift_left(q, p.shift), p.activation, {p.lo, p.hi});
  }
};

static_assert(ArithmeticProfile<akida_v1>);

}  // namespace statiq::arith
