// statiq/quant/weight_quantizer.hpp — the customisation point for weight quantizers (the
// WeightQuantizer concept) and the arithmetic every weight quantizer shares (kmax, RNE, max|w|).
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <span>
#include <type_traits>

#include "statiq/core/diagnostics.hpp"

namespace statiq::quant {

// A weight quantizer (CNN2SNN's akida_v1 family, ARITHMETIC.md section 3) only chooses a scale
// factor sf; quantize_weights then computes w_int = sat(RNE(w * sf), -kmax, kmax) and the
// dequantized weight w_int / sf. `weights` is one output channel when per_axis, else the whole
// tensor. A user-written quantizer is any type with these two members (it may also derive from
// a built-in one and hide scale_factor), as CNN2SNN users override only the scale factor.
template <class Q>
concept WeightQuantizer = requires(const Q& quantizer, std::span<const float> weights, int bits) {
  typename std::bool_constant<Q::per_axis>;  // a compile-time bool
  { quantizer.scale_factor(weights, bits) } -> std::same_as<float>;
}
&&std::same_as<std::remove_cv_t<decltype(Q::per_axis)>, bool>;

// The scale (1/sf) given to a channel whose weights are all zero: its integers are 0 whatever
// the scale, and this is the floor QuantizeML puts under every weight scale (ARITHMETIC.md
// section 2), so a zero channel looks the same in every profile and never divides by zero.
inline constexpr float zero_channel_scale = 1e-6f;

// Largest weight integer of a symmetric b-bit quantizer: 2^(b-1) - 1.
constexpr int kmax(int bits) { return (1 << (bits - 1)) - 1; }

namespace detail {

// Round half to even in float32. nearbyint follows the current rounding mode, which is
// round-to-nearest-even unless a program changes it (statiq never does).
inline float round_half_even(float x) { return std::nearbyint(x); }

// Round half away from zero (TFLite's TfLiteRound, std::round).
inline float round_half_away(float x) { return std::round(x); }

// max |w| of a span of finite values (0 for an empty span).
inline float max_abs(std::span<const float> w) {
  float m = 0.0f;
  for (float v : w) m = std::max(m, std::fabs(v));
  return m;
}

}  // namespace detail

}  // namespace statiq::quant

namespace statiq::diag {
STATIQ_DIAGNOSTIC_SHOWING(weight_quantizer_needs_per_axis_and_scale_factor, Quantizer,
                  "a weight quantizer needs `static constexpr bool per_axis` and "
                  "`float scale_factor(std::span<const float> weights, int bits) const`",
                  class Quantizer);
}  // namespace statiq::diag
