// statiq/quant/max_quantizer.hpp — MaxQuantizer: CNN2SNN's per-tensor weight quantizer whose
// scale factor maps the largest |w| of the tensor onto kmax (sf = kmax / max|w|).
#pragma once

#include <cmath>
#include <span>

#include "statiq/quant/weight_quantizer.hpp"

namespace statiq::quant {

struct MaxQuantizer {
  static constexpr bool per_axis = false;

  // An all-zero input gets sf = 1 / zero_channel_scale instead of kmax / 0 (quantize_weights
  // does not even ask a quantizer about an all-zero group; this is for direct callers), and so
  // does a group so small (subnormal) that kmax / max|w| overflows: its weights round to 0.
  float scale_factor(std::span<const float> weights, int bits) const {
    const float max_abs = detail::max_abs(weights);
    if (max_abs == 0.0f) return 1.0f / zero_channel_scale;
    const float sf = static_cast<float>(kmax(bits)) / max_abs;
    return std::isfinite(sf) ? sf : 1.0f / zero_channel_scale;
  }
};

}  // namespace statiq::quant
