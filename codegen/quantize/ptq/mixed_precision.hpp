// codegen/quantize/ptq/mixed_precision.hpp — --budget: each conv and dense layer's weight bits chosen
// among those the target accepts for it, so that the model fits a weight-memory budget with the
// least output error, or keeps an accuracy / output-SQNR floor with the least weight memory.
//
// How: every layer at its highest allowed bits is the reference; the sensitivity of each layer at
// each lower width is measured alone (the others at the reference) as the output SQNR (and accuracy)
// against the float model on the evaluation samples. Output noise powers of independent layers add,
// so a configuration's noise is predicted as the reference's plus each lowered layer's extra noise;
// a greedy search lowers the layer that costs the least noise per byte saved. The memory search
// then measures the configuration it stops at; the accuracy / SQNR search measures each step and
// keeps it only when the floor still holds.
//
// Allowed widths are the target's: those its lowering accepts with every layer's placement unchanged
// and its quantizer takes (1 bit on pow2 is refused there, so dropped). Layers whose bits the user's
// --node-config gives are not searched. With search_activations the output bits of each conv/dense
// layer are knobs of their own (no weight memory: they go after the weights, for floors only).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "codegen/calib/calibration_set.hpp"
#include "codegen/ir/graph.hpp"
#include "codegen/lower/lower.hpp"
#include "codegen/model/lowered_model.hpp"

namespace statiq::codegen::ptq {

struct Budget {
  enum class Kind { weight_bytes, accuracy_drop, output_sqnr };
  Kind kind = Kind::weight_bytes;
  double value = 0;         // bytes, percentage points, or dB
  bool percent_of_8_bit = false;  // weight_bytes given as "bytes=50%": of the weights at 8 bits each
};

// "bytes=20000", "bytes=50%" (of the weights at 8 bits), "drop=0.5" (percentage points of
// accuracy against float, or of top-1 agreement without labels), "sqnr=30" (dB, the engine's
// output against the float model's). Throws naming the accepted forms.
Budget parse_budget(const std::string& text);
std::string budget_text(const Budget& budget);

// The engine's output against the float model's on some samples.
struct Measure {
  double sqnr_db = 0;                 // over all the samples' outputs together
  std::optional<double> accuracy;     // with labels, in [0, 1]
  double agreement = 0;               // top-1 of the engine = top-1 of the float model, in [0, 1]
  std::size_t weight_bytes = 0;       // as stored (packed where the target packs)
};

struct SensitivityEntry {
  int bits = 0;
  std::size_t weight_bytes = 0;  // this layer's
  Measure measure;               // the model with this layer at `bits`, every other at its reference
};

// One knob of the search: a layer's weight bits, or (search_activations) its output bits.
struct LayerSensitivity {
  std::size_t layer = 0;     // LoweredModel::layers index
  std::string node;          // its head node (the --node-config key)
  std::size_t weights = 0;   // weight count
  bool output = false;       // the knob is the layer's output bits ("out"), which cost no weight memory
  bool pinned = false;       // its bits come from --node-config: not searched
  std::vector<SensitivityEntry> entries;  // highest bits first: the reference, then each lower width
  int chosen = 0;
  int chosen_base = 0;  // its bits in the run before the search
};

struct MixedPrecision {
  Budget budget;
  std::size_t samples = 0;
  std::optional<double> float_accuracy;     // with labels
  std::size_t eight_bit_weight_bytes = 0;   // every weight of the searched layers at 8 bits, the rest as chosen
  Measure reference;                        // every searched layer at its highest allowed bits
  std::vector<LayerSensitivity> layers;
  Measure chosen;
  bool met = false;
  std::size_t measured = 0;                 // configurations measured in all

  std::map<std::string, int> chosen_bits() const;         // node -> weight bits
  std::map<std::string, int> chosen_output_bits() const;  // node -> output bits (search_activations)
  std::string text() const;
  std::string json() const;  // one JSON object
};

// The run's pipeline: lower the graph with these per-node bits, and quantize a lowered model (the
// same calibration and post-training methods as the final run).
using LowerWith = std::function<LoweredModel(const std::map<std::string, BitsOverride>&)>;
using QuantizeModel = std::function<void(LoweredModel&)>;

struct BudgetInputs {
  const ir::Graph& graph;
  const calib::CalibrationSet& eval;
  std::size_t max_samples = 0;               // evaluation samples used, spread over the set (0: all)
  const std::vector<std::int64_t>& labels;   // of `eval`, or empty
  bool packs_sub_byte = false;
  std::map<std::string, BitsOverride> base_bits;  // the run's per-node bits (--node-config)
  // Also each conv/dense layer's output bits (drop= and sqnr= budgets only: they cost no weight
  // memory, so the search lowers them after the weights, as far as the floor allows).
  bool search_activations = false;
};

// Searches the weight bits; the result's chosen_bits() merged into the run's node bits give the
// model it measured. Throws when a memory budget is below what the lowest allowed bits reach.
MixedPrecision choose_bits(const BudgetInputs& in, const Budget& budget, const LowerWith& lower_with,
                           const QuantizeModel& quantize_model);

}  // namespace statiq::codegen::ptq
