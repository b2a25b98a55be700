// statiq/arith/akida_v1.hpp — the `akida_v1` profile: Akida 1.0 (CNN2SNN) ceiling activation,
// in its float definition and the integer threshold/step form the hardware registers hold.
#pragma once

#include <cmath>
#include <cstdint>

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

  static constexpr std::int32_t rescale(std::int32_t q, const rescale_params& p) {
    return requantize(shift_left(q, p.shift), p.activation, {p.lo, p.hi});
  }
};

static_assert(ArithmeticProfile<akida_v1>);

}  // namespace statiq::arith
