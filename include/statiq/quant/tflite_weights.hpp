// statiq/quant/tflite_weights.hpp — tflite_weights: TFLite's symmetric int8 weights, [-127, 127],
// zero point 0, scale max|w_c| / 127 per output channel (tflite optimize quantization_utils).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

#include "statiq/quant/quantized_weights.hpp"
#include "statiq/quant/weight_quantizer.hpp"

namespace statiq::quant {

// TFLite's SymmetricPerChannelQuantization, in float32:
//   scale_c = max|w_c| / 127,  w_int = sat(RHAZ(w * (127 / max|w_c|)), -127, 127)
// Note the rounding is half AWAY from zero (TfLiteRound) and the multiplication by the
// inverse scale, unlike the other profiles. An all-zero channel gets scale 0 and inverse 0,
// as TFLite writes it: a consumer that divides by the weight scale must expect that.
// Weights are output channel first ([O][...], TFLite's OHWI convolution filters; depthwise
// filters, whose channel is the last dimension, must be transposed first).
inline QuantizedWeights tflite_weights(std::span<const float> w, int out_channels) {
  detail::check_weight_args("tflite_weights", w, out_channels, 8, 8);
  constexpr float kMax = 127.0f;
  QuantizedWeights out;
  out.bits = 8;
  out.per_axis = true;
  out.values.resize(w.size());
  const std::size_t group_size = w.size() / static_cast<std::size_t>(out_channels);
  for (std::size_t c = 0; c < static_cast<std::size_t>(out_channels); ++c) {
    const std::span<const float> channel = w.subspan(c * group_size, group_size);
    const float half_range = detail::max_abs(channel);
    const float inverse = half_range == 0.0f ? 0.0f : kMax / half_range;
    for (std::size_t i = 0; i < group_size; ++i) {
      // A subnormal max|w_c| makes the inverse inf, and 0 * inf NaN: that weight is 0.
      const float product = channel[i] * inverse;
      const float q =
          std::isnan(product) ? 0.0f : std::clamp(detail::round_half_away(product), -kMax, kMax);
      out.values[c * group_size + i] = static_cast<std::int8_t>(q);
    }
    out.scales.push_back(half_range / kMax);
  }
  return out;
}

}  // namespace statiq::quant
