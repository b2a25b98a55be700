// codegen/calib/calibrate.hpp — calibrate(): runs the float executor over a calibration set and
// returns the range of every float tensor (graph inputs and node outputs) for the chosen method.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "codegen/calib/calibration_set.hpp"
#include "codegen/calib/mse_observer.hpp"
#include "codegen/calib/progress_bar.hpp"
#include "codegen/calib/tensor_observer.hpp"
#include "codegen/ir/graph.hpp"

namespace statiq::codegen::calib {

enum class CalibrationMethod { min_max, percentile, entropy, mse };

std::string_view to_string(CalibrationMethod m);
// "minmax", "percentile", "entropy", "mse"; throws listing them.
CalibrationMethod parse_calibration_method(std::string_view name);

struct CalibrationOptions {
  CalibrationMethod method = CalibrationMethod::min_max;
  double percentile = 99.999;       // percentile: as onnxruntime's default
  bool percentile_symmetric = true; // percentile: of |x| (true, onnxruntime's default) or both tails
  std::size_t num_bins = 2048;      // percentile and entropy histograms
  std::size_t num_quantized_bins = 128;  // entropy
  // mse (mse_observer.hpp): the quantizer each tensor's range is chosen for; generate() fills them
  // from the target (pow2 or not) and every layer's output bits.
  MseGrid mse_grid;
  std::map<std::string, int> mse_bits;  // by tensor name; mse_grid.bits for the others
};

// The observer for the options (MinMaxObserver, PercentileObserver, EntropyObserver or MseObserver).
std::unique_ptr<TensorObserver> make_observer(const CalibrationOptions& options);

// Feeds every sample (validated first) through exec::FloatExecutor, once per observer pass,
// observing each graph input and every float tensor a node produces (int64 shape tensors are
// skipped). An executor error is rethrown prefixed with the sample's origin. The progress bar
// ("calibrating") counts samples over all passes.
void run_observer(const ir::Graph& graph, const CalibrationSet& set, TensorObserver& observer,
                  ProgressBar::Mode progress = ProgressBar::Mode::automatic);

// run_observer with make_observer(options); the range of every observed tensor by name.
std::map<std::string, Range> calibrate(const ir::Graph& graph, const CalibrationSet& set,
                                       const CalibrationOptions& options = {},
                                       ProgressBar::Mode progress = ProgressBar::Mode::automatic);

}  // namespace statiq::codegen::calib
