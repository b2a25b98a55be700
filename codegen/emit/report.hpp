// codegen/emit/report.hpp — what the generator tells the user about the quantized model, per layer
// and in total: Report (the numbers only the caller knows) and its text and JSON forms.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "codegen/model/lowered_model.hpp"
#include "statiq/engine/arena.hpp"

namespace statiq::codegen {

// Per layer, what calibration and the integer simulation measured (unknown fields stay empty).
struct LayerReport {
  std::optional<float> range_min;  // calibrated range of the layer's output, real units
  std::optional<float> range_max;
  std::optional<double> sqnr_db;   // integer simulation vs the float executor, at this layer's output
  std::vector<std::string> ptq;    // what each post-training method (quantize/ptq) changed, one line each
};

// Float vs quantized accuracy on the user's samples (labels given), or top-1 agreement without labels.
struct Accuracy {
  std::string metric = "top-1";
  double float_model = 0;      // fractions in [0, 1]
  double quantized_model = 0;
  std::size_t samples = 0;
};

// How close the engine is to the float model on the evaluation samples. A figure is left unset
// when it would compare the wrong things, and `not_compared` says why.
struct Quality {
  std::size_t samples = 0;
  std::optional<double> top1_agreement;  // argmax of float vs engine, only when the output is class scores
  std::optional<double> mean_cosine;     // the engine's output against the float model's same tensor
  std::string not_compared;              // why a figure is missing ("" when both are set)
};

struct Report {
  std::vector<LayerReport> layers;  // by LoweredModel::layers index; missing entries are unknown
  std::optional<Quality> quality;
  std::optional<Accuracy> accuracy;
  std::vector<std::string> notes;   // rewrites applied, warnings: anything the user should read
  std::string mixed_precision_text;  // --budget's sensitivity table and choice (quantize/ptq/mixed_precision.hpp)
  std::string mixed_precision_json;  // the same as one JSON object, under "mixed_precision"
};

// Totals over the model.
struct ReportTotals {
  std::int64_t params = 0;  // weights + biases
  std::int64_t macs = 0;
  std::size_t weight_bytes = 0;  // as stored (packed where the target packs)
  std::size_t arena_bytes = 0;   // the engine's activations + scratch after reuse
  ArenaBound arena_bound{};      // the most bytes live at one step: no arena can be smaller
  std::size_t in_place_layers = 0;            // elementwise layers writing over their input
  std::size_t arena_bytes_without_in_place = 0;  // the arena if each of them had its own output
  std::size_t host_layers = 0;
};

// What identifies the generated code in the reports and the header comment.
struct Provenance {
  std::string model_file;     // as given on the command line
  std::string model_sha256;   // hex digest of the model file
  bool packs_sub_byte = false;
};

ReportTotals report_totals(const LoweredModel& model, bool packs_sub_byte);

// One line: the quality figures, and why any is missing.
std::string quality_text(const Quality& quality);

// `struct_names` are the generated structs, by layer index.
std::string report_text(const LoweredModel& model, const Report& report, const Provenance& provenance,
                        const std::vector<std::string>& struct_names);
std::string report_json(const LoweredModel& model, const Report& report, const Provenance& provenance,
                        const std::vector<std::string>& struct_names);

}  // namespace statiq::codegen
