// codegen/quantize/ptq/weight_scale_search.hpp — the clipping scale of each weight group (output
// channel, or the whole tensor) that minimises the quantization error of the weights, or of the
// layer's output on the calibration samples, instead of the scale that maps max|w| onto the
// largest integer.
#pragma once

#include <span>

#include "codegen/quantize/quantize.hpp"

namespace statiq::codegen::ptq {

struct InputStatistics;

// What a search changed in one layer.
struct ScaleSearchResult {
  int groups = 0;            // output channels (per axis) or 1
  int changed_groups = 0;    // groups whose scale changed
  int clipped_groups = 0;    // groups whose chosen scale clips their largest |w|
  double error_before = 0;   // at the quantizer's scale: sum (w - w_q)^2, or the output error
  double error_after = 0;    // at the chosen scales
};

// For every group of `weights` (per_axis: one per output channel), tries the scales s0 * a with s0 the
// quantizer's scale and a in [0.5, 1] (steps of 1/100: below a half, 4-bit weights lose more than
// they gain) and keeps the one with the smallest error; s0 itself is a candidate, so the error never
// grows. The error is sum (w - s * clamp(RNE(w / s), grid.lo, grid.hi))^2 without `stats`, and with
// them the layer's output error E||W x_f - V x_q||^2 of the group's channels (adaround.hpp). The
// scales stay float (every profile carries float weight scales into its requantization,
// ARITHMETIC.md; pow2's power-of-two steps are the activations'). Changes weights.values and
// weights.scales in place.
ScaleSearchResult search_weight_scales(std::span<const float> w, const WeightGrid& grid,
                                       quant::QuantizedWeights& weights, const InputStatistics* stats = nullptr);

}  // namespace statiq::codegen::ptq
