// statiq/arith/gemmini.hpp — the `gemmini` profile: UC Berkeley Gemmini (int8, int32 accumulator,
// one float32 ACC_SCALE per layer, no zero points), its requantization and resadd.
#pragma once

#include <cstdint>

#include "statiq/arith/profile.hpp"
#include "statiq/arith/rounding.hpp"

namespace statiq::arith {

struct gemmini {
  static constexpr const char* name = "gemmini";
  static constexpr int accumulator_bits = 32;
  static constexpr bool supports_zero_points = false;
  static constexpr bool supports_per_channel = false;
  static constexpr int dim = 16;  // systolic array side (DIM)

  // One multiplier for the whole layer; every channel carries the same value.
  struct channel_params {
    float multiplier;
  };

  // int8 output; ReLU is lo = 0, ReLU6 is hi = relu6_max(relu6_shift).
  struct output_params {
    std::int32_t lo;
    std::int32_t hi;
  };

  static constexpr std::int32_t int8_min = -128;
  static constexpr std::int32_t int8_max = 127;

  static constexpr float multiplier(float x_scale, float w_scale, float y_scale) {
    return (x_scale * w_scale) / y_scale;
  }

  // --- parameters from real scales (zero points are 0) ------------------------------------

  static constexpr std::int64_t round_real(float v) { return round_half_even(v); }

  // The layer's ACC_SCALE; `count` accumulators summed (a fused average) divide it, in double.
  static constexpr channel_params channel(float x_scale, float w_scale, float y_scale, int count = 1) {
    const float m = multiplier(x_scale, w_scale, y_scale);
    return {count == 1 ? m : static_cast<float>(static_cast<double>(m) / count)};
  }

  static constexpr output_params output(scale_zero_point /* zero point 0 */, output_bounds b) { return {b.lo, b.hi}; }

  // A stand-alone average pool: the channel of a 1x1 convolution with unit weights over `count` inputs.
  static constexpr channel_params average_channel(float x_scale, float y_scale, int count) {
    return channel(x_scale, 1.0f, y_scale, count);
  }

  // Versions with ReLU6 clip at 6 << relu6_shift (6 in the output's fixed point).
  static constexpr std::int32_t relu6_max(int relu6_shift) {
    const std::int32_t six = 6 << relu6_shift;
    return six < int8_max ? six : int8_max;
  }

  // gemmini_params.h ACC_SCALE: ROUND_NEAR_EVEN(float(acc) * scale) saturated to int8, then
  // the activation (ReLU / ReLU6) as a clamp.
  static constexpr std::int32_t acc_scale(std::int64_t x, float scale) {
    const std::int64_t y =
        round_half_even(static_cast<float>(static_cast<std::int32_t>(x)) * scale);
    return static_cast<std::int32_t>(saturate(y, int8_min, int8_max));
  }

  // MVIN_SCALE: an int8 operand scaled on its way into the scratchpad, RNE, saturated to int8.
  static constexpr std::int32_t mvin_scale(std::int32_t x, float scale) {
    return static_cast<std::int32_t>(
        saturate(round_half_even(static_cast<float>(x) * scale), int8_min, int8_max));
  }

  static constexpr std::int32_t requantize(std::int64_t acc, const channel_params& ch,
                                           const output_params& out) {
    return static_cast<std::int32_t>(saturate(acc_scale(acc, ch.multiplier), out.lo, out.hi));
  }

  // resadd (gemmini.h resadd_cpu / tiled_resadd): MVIN_SCALE(a, A) + MVIN_SCALE(b, B) in
  // int32, then ACC_SCALE(sum, C), then clamp to [relu ? 0 : -128, 127].
  struct add_params {
    float a_scale;
    float b_scale;
    float c_scale;
    std::int32_t lo;
    std::int32_t hi;
  };

  // [inferred] the Systolic ORT fork's QLinearAdd passes the ratios a_s/y_s and b_s/y_s as the
  // mvin scales and 1 as the accumulator scale.
  static constexpr add_params make_add(float a_scale, float b_scale, float y_scale, bool relu) {
    return add_from({a_scale}, {b_scale}, {y_scale}, {relu ? 0 : int8_min, int8_max});
  }
  // The same with the output's bounds (a clipped ReLU's too).
  static constexpr add_params add_from(scale_zero_point a, scale_zero_point b, scale_zero_point y,
                                       output_bounds bounds) {
    return {a.scale / y.scale, b.scale / y.scale, 1.0f, bounds.lo, bounds.hi};
  }

  static constexpr std::int32_t add(std::int32_t a, std::int32_t b, const add_params& p) {
    const std::int64_t sum = std::int64_t{mvin_scale(a, p.a_scale)} + mvin_scale(b, p.b_scale);
    return static_cast<std::int32_t>(saturate(acc_scale(sum, p.c_scale), p.lo, p.hi));
  }

  // A Concat input at another scale: one MVIN_SCALE (the only per-operand scaling Gemmini has).
  struct rescale_params {
    float scale;
    std::int32_t lo;
    std::int32_t hi;
  };

  static constexpr rescale_params rescale_from(scale_zero_point x, scale_zero_point y, output_bounds b) {
    return {x.scale / y.scale, b.lo, b.hi};
  }

  static constexpr std::int32_t rescale(std::int32_t q, const rescale_params& p) {
    return static_cast<std::int32_t>(saturate(mvin_scale(q, p.scale), p.lo, p.hi));
  }
};

static_assert(ArithmeticProfile<gemmini>);

}  // namespace statiq::arith
