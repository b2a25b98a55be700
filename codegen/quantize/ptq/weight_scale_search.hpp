// codegen/quantize/ptq/weight_scale_search.hpp — the clipping scale of each weight group (output
// channel, or the whole tensor) that minimises the quantization error of the weights, instead of
// the scale that maps max|w| onto the largest integer.
#pragma once

#include <span>

#include "codegen/quantize/quantize.hpp"

namespace statiq::codegen::ptq {

// What a search changed in one layer.
struct ScaleSearchResult {
  int groups = 0;          // output channels (per axis) or 1
  int clipped_groups = 0;  // groups whose chosen scale clips their largest |w|
  double mse_before = 0;   // sum over the weights of (w - w_q)^2, at the quantizer's scale
  double mse_after = 0;    // at the chosen scale
};

// For every group of `weights` (per_axis: one per output channel), tries the scales s0 * a with s0 the
// quantizer's scale and a in [0.5, 1] (steps of 1/100: below a half, 4-bit weights lose more than
// they gain) and keeps the one with the smallest sum (w - s * clamp(RNE(w / s), grid.lo, grid.hi))^2;
// s0 itself is a candidate, so the error never grows. The scales stay float (every profile carries
// float weight scales into its requantization: ARITHMETIC.md; pow2's power-of-two constraint is on
// the activations). Changes weights.values and weights.scales in place.
ScaleSearchResult search_weight_scales(std::span<const float> w, const WeightGrid& grid,
                                       quant::QuantizedWeights& weights);

}  // namespace statiq::codegen::ptq
