// codegen/quantize/ptq/bias_correction.hpp — bias correction (Nagel et al. 2019, "Data-Free
// Quantization Through Weight Equalization and Bias Correction", section 4.2, with the expectation
// measured on calibration samples): quantizing the weights shifts channel c's output by
// (v_c - w_c) . E[x] on average; subtracting that from the bias removes the shift. The `float`
// reference also removes the shift the quantized upstream causes: v_c . E[x_q] - w_c . E[x_f], the
// layer's whole mean error against the float model (the empirical correction of the same paper).
#pragma once

#include <span>
#include <vector>

#include "codegen/quantize/ptq/input_statistics.hpp"
#include "codegen/quantize/ptq/ptq_options.hpp"
#include "statiq/quant/quantized_weights.hpp"

namespace statiq::codegen::ptq {

struct BiasCorrectionResult {
  int channels = 0;
  double mean_abs_shift = 0;  // mean over the channels of |(v_c - w_c) . E[x_q]|, real units
  double max_abs_shift = 0;
};

// w: the float weights (OHWI / [units][inputs]); q: their quantized form (real v = value * scale(c));
// E[x] is taken on the quantized model's own input to the layer (stats.groups[*].mean_q), so the
// correction is for the layer as it will run. `bias` (one per output channel, created as zeros when
// empty) is corrected in place.
BiasCorrectionResult correct_bias(std::span<const float> w, const quant::QuantizedWeights& q,
                                  const InputStatistics& stats, std::vector<float>& bias,
                                  BiasReference reference = BiasReference::quantized_input);

}  // namespace statiq::codegen::ptq
