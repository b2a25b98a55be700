// codegen/quantize/ptq/adaround.hpp — adaptive rounding (Nagel et al. 2020, "Up or Down? Adaptive
// Rounding for Post-Training Quantization"): per layer, each weight is rounded down or up so that
// the layer's output on the calibration samples, E||W x_f - V x_q||^2, is smallest, instead of to
// the nearest integer. The continuous relaxation V = s * clamp(floor(W / s) + h(A)), h the rectified
// sigmoid, is optimised with Adam against that error plus a regulariser that drives every h to 0 or
// 1 (its exponent annealed from 20 to 2 after a warm-up), as in the paper. The output error is the
// quadratic form of input_statistics.hpp, so one iteration costs a product with the K x K moments,
// whatever the number of samples.
#pragma once

#include <span>

#include "codegen/calib/progress_bar.hpp"
#include "codegen/quantize/ptq/ptq_options.hpp"
#include "codegen/quantize/ptq/input_statistics.hpp"
#include "codegen/quantize/quantize.hpp"

namespace statiq::codegen::ptq {


struct AdaRoundResult {
  std::size_t weights = 0;
  std::size_t flipped = 0;     // integers that differ from the nearest rounding at the same scales
  double error_before = 0;     // E||W x_f - V x_q||^2 summed over the channels, weights as given
  double error_after = 0;      // with the rounding kept (never above error_before)
  bool kept_given = false;     // the optimised rounding was not better: the given integers stay
};

// Changes weights.values (not the scales) within grid. `bar` (may be null) advances once per step.
AdaRoundResult adaround(std::span<const float> w, const WeightGrid& grid, quant::QuantizedWeights& weights,
                        const InputStatistics& stats, const AdaRoundOptions& options, calib::ProgressBar* bar);

// E||W x_f - V x_q||^2 summed over the output channels, V = values * scale(c).
double output_error(std::span<const float> w, const quant::QuantizedWeights& weights, const InputStatistics& stats);

}  // namespace statiq::codegen::ptq
