// statiq/quant/pow2_weights.hpp — pow2_weights: QuantizeML's default weight quantization for the
// pow2 (Akida 2.0) profile, a float scale per output channel (ARITHMETIC.md section 2).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "statiq/quant/quantized_weights.hpp"
#include "statiq/quant/weight_quantizer.hpp"

namespace statiq::quant {

// The floor QuantizeML puts under every weight scale, so a zero (or tiny) channel never
// divides by zero; the same value as zero_channel_scale.
inline constexpr float pow2_min_weight_scale = 1e-6f;

// QuantizeML's weight rule, with vb = bits - 1 value bits (signed weights):
//   s_c = max(float32(max|w_c|) / (2^vb - 1), 1e-6),  w_int = sat(RNE(w / s_c), -2^vb, 2^vb - 1)
// in float32 (QFloat.optimal_scales, then QFloat.quantize: a division, not a multiplication by
// 1/s_c). scales[c] = s_c; the float scales travel with the accumulator. per_axis = false uses
// the tensor's max|w| for a single scale (out_channels still checks the layout).
// Throws std::invalid_argument like quantize_weights (NaN/Inf, shape, bits outside [2, 8]).
inline QuantizedWeights pow2_weights(std::span<const float> w, int out_channels, int bits = 8,
                                     bool per_axis = true) {
  detail::check_weight_args("pow2_weights", w, out_channels, bits, 2);
  const int value_bits = bits - 1;
  const auto int_max = static_cast<float>((1 << value_bits) - 1);
  const auto lo = static_cast<float>(-(1 << value_bits));
  QuantizedWeights out;
  out.bits = bits;
  out.per_axis = per_axis;
  out.values.resize(w.size());
  const std::size_t groups = per_axis ? static_cast<std::size_t>(out_channels) : 1;
  const std::size_t group_size = w.size() / groups;
  for (std::size_t g = 0; g < groups; ++g) {
    const std::span<const float> group = w.subspan(g * group_size, group_size);
    const float s = std::max(detail::max_abs(group) / int_max, pow2_min_weight_scale);
    for (std::size_t i = 0; i < group_size; ++i) {
      const float q = std::clamp(detail::round_half_even(group[i] / s), lo, int_max);
      out.values[g * group_size + i] = static_cast<std::int8_t>(q);
    }
    out.scales.push_back(s);
  }
  return out;
}

}  // namespace statiq::quant
