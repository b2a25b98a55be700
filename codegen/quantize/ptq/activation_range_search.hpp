// codegen/quantize/ptq/activation_range_search.hpp — each layer's activation range chosen by the error
// it leaves at the model's output on the calibration samples, not by its own statistics: at 4 bits
// a range that clips more gives a finer step, and only the whole model says which matters more.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "codegen/calib/calibration_set.hpp"
#include "codegen/calib/progress_bar.hpp"
#include "codegen/ir/graph.hpp"
#include "codegen/quantize/quantize.hpp"

namespace statiq::codegen::ptq {

struct RangeChoice {
  std::size_t layer = 0;  // LoweredModel::layers index
  std::string tensor;
  double factor = 1.0;    // chosen range = calibrated range * factor
  double error_before = 0, error_after = 0;  // mean squared output error over the samples
};

// Greedy, layer by layer in execution order: for each layer's output range, the factors
// `factors` (1 is always tried: a range changes only when the output error strictly drops) times
// the calibrated range, each scored by quantize() and the integer simulation of the first
// `max_samples` samples against the float model's output. On pow2 the factors 1/2, 1/4 are exactly
// one and two more fractional bits. A candidate quantize() refuses is skipped. Returns the ranges to
// quantize with and what changed.
Ranges search_activation_ranges(LoweredModel& model, const ir::Graph& graph, const calib::CalibrationSet& set,
                                const Ranges& ranges, const QuantizeOptions& options, std::size_t max_samples,
                                std::vector<RangeChoice>& changed,
                                calib::ProgressBar::Mode progress = calib::ProgressBar::Mode::automatic);

}  // namespace statiq::codegen::ptq
