// codegen/quantize/ptq/ptq.hpp — post-training methods that make low-bit (4-bit) quantization lose
// less without retraining, on top of quantize(): weight scale search, bias correction and AdaRound.
// Each keeps the target's rules (the integer range of its weights, per-axis or per-tensor scales) and
// only changes numbers: the model still runs on the same integer engine.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "codegen/calib/calibrate.hpp"
#include "codegen/calib/calibration_set.hpp"
#include "codegen/calib/progress_bar.hpp"
#include "codegen/ir/graph.hpp"
#include "codegen/quantize/ptq/cross_layer_equalization.hpp"
#include "codegen/quantize/ptq/ptq_options.hpp"
#include "codegen/quantize/quantize.hpp"

namespace statiq::codegen::ptq {


// Per layer (LoweredModel::layers index), one line per method saying what it changed.
using PtqNotes = std::map<std::size_t, std::vector<std::string>>;

// quantize(model, ranges, options) with the methods of `ptq`. The activation range search goes
// first and leaves the ranges it chose in `ranges`; then the weight methods run on every conv and
// dense layer. The data-driven ones go layer by layer in execution order: a layer's input is
// measured on the quantized model with every layer before it already refined (the integer
// simulation of simulate.hpp), its float input on the float graph. Throws what quantize() throws.
PtqNotes quantize_with_ptq(LoweredModel& model, const ir::Graph& graph, const calib::CalibrationSet& set,
                           Ranges& ranges, const QuantizeOptions& options, const PtqOptions& ptq);

// The methods `ptq` enables, one at a time, for comparing them (--report-html): ("none", no method)
// then ("bias correction", that method alone) and so on, in the order quantize_with_ptq runs them.
// Cross-layer equalization, applied to the float graph before, stays on in every one; the
// settings (samples, iterations) are `ptq`'s and no progress bar is drawn.
std::vector<std::pair<std::string, PtqOptions>> each_method_alone(const PtqOptions& ptq);

// For --calib-method mse: the grid each tensor's range is searched on, from the lowered model (the
// target's scale rule: power-of-two steps on pow2; every layer's output bits, and the input's).
void set_mse_grids(const LoweredModel& model, calib::CalibrationOptions& options);

}  // namespace statiq::codegen::ptq
