// codegen/generate/generate.hpp — the main job of statiq-codegen as a function: load, normalise,
// match the target, calibrate, quantize, integer-simulate (accuracy, per-layer SQNR, golden vectors)
// and emit. The CLI parses its arguments into GenerateOptions; tests call generate() directly.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "codegen/calib/calibrate.hpp"
#include "codegen/calib/calibration_set.hpp"
#include "codegen/emit/emit.hpp"
#include "codegen/emit/report.hpp"
#include "codegen/legalize/legalize.hpp"
#include "codegen/lower/lower.hpp"
#include "codegen/model/lowered_model.hpp"
#include "codegen/quantize/ptq/mixed_precision.hpp"
#include "codegen/quantize/ptq/ptq.hpp"
#include "codegen/quantize/quantize.hpp"

namespace statiq::codegen {

struct GenerateOptions {
  std::filesystem::path model;
  std::string target = "cpu-int8";
  std::filesystem::path calib;             // samples: .npy, .npz, .pb / test_data_set folders, image folder
  std::filesystem::path output_dir;        // where the generated files go; empty: nothing is written
  std::string name;                        // C++ namespace; default: the model file's stem
  calib::ReadOptions read;                 // max samples, image preprocessing
  calib::CalibrationOptions calibration;   // method
  LowerOptions lower;                      // policy, bits
  QuantizeOptions quantize;                // weight quantizer, activation type, reduce_range
  ptq::PtqOptions ptq;                     // post-training methods (weight scale search, bias correction, AdaRound); off by default
  std::optional<UnmappedPolicy> policy;    // default: error for hardware targets, host otherwise
  std::filesystem::path eval;              // samples for accuracy (default: the calibration samples)
  std::filesystem::path labels;            // .npy labels of the eval samples: accuracy instead of agreement
  std::size_t max_eval = 0;                // 0: all eval samples
  std::size_t golden = 3;                  // golden vectors to emit (from the eval samples)
  std::filesystem::path node_config;       // JSON per node: { "conv1": { "w": 4, "out": 4, "weight_quantizer": "std" } }
  // Weight bits chosen per layer under a budget (quantize/ptq/mixed_precision.hpp), measured on up
  // to budget_samples evaluation samples; the choice is written as <name>_node_config.json.
  std::optional<ptq::Budget> budget;
  std::size_t budget_samples = 1000;
  bool budget_activations = false;  // the budget also chooses each conv/dense layer's output bits (drop=, sqnr=)
  // One self-contained HTML page (emit/report_html.hpp); with post-training methods, the model is
  // also quantized without them and with each alone, for the per-layer SQNR of each.
  std::filesystem::path report_html;
  // Rewrite the model to fit the target first (legalize/legalize.hpp), float-checked on the
  // calibration samples; what stays unfixable runs on the host unless `policy` says otherwise.
  std::optional<legalize::LegalizeOptions> legalize;
  std::filesystem::path qdq;               // also write the quantized model as QDQ ONNX (cpu-int8; export/qdq_export.hpp)
  std::filesystem::path qoperator;         // also write it in ONNX's QOperator form (cpu-int8; export/qoperator_export.hpp)
  std::filesystem::path tflite;            // also write it as .tflite (tflite targets; export/tflite_export.hpp)
  // cpu-int8: onnxruntime's dynamic quantization (quantize/dynamic.hpp) instead of calibrated static
  // quantization; `qdq` then writes the dynamic form (export/dynamic_export.hpp).
  bool dynamic = false;
  // A board of statiq/targets/boards.hpp (e.g. "mps2-an386"): the generated target is
  // on_board<target, board, "name">, so an arena larger than the board's data memory fails to compile.
  std::string board;
  // How the data TU holds the weights (emit.hpp): string literals (any compiler) or a .bin file
  // assembled in with .incbin (GNU toolchains on ELF; dense: a 25 M-weight model compiles in seconds).
  WeightsEncoding weights_encoding = WeightsEncoding::literal;
};

struct GenerateResult {
  LoweredModel model;
  ir::Graph graph;  // the float graph the model was lowered from (normalised, legalised with --legalize)
  Report report;
  std::vector<std::string> normalize_actions;
  std::optional<legalize::LegalizeResult> legalization;  // with GenerateOptions::legalize
  std::size_t eval_samples = 0;
  // float vs quantized argmax on the eval samples; unset when the engine stops before the model's
  // output (a float tail other than a final Softmax: the generator does not simulate it) or the
  // output is not class scores; report.quality says why
  std::optional<double> top1_agreement;
  std::optional<double> mean_cosine;  // of the float and dequantized outputs; unset when not comparable
  std::optional<Accuracy> accuracy;
  std::optional<ptq::MixedPrecision> mixed_precision;  // with GenerateOptions::budget
  std::string node_config_written;                     // with a budget: the --node-config JSON of the choice
  std::vector<std::filesystem::path> written;
};

GenerateResult generate(const GenerateOptions& options);

// Per-node settings from a JSON file: bit-widths (checked against the target by its rules, like
// every layer) and the weight quantizer.
struct NodeConfig {
  std::map<std::string, BitsOverride> bits;
  std::map<std::string, WeightQuantizerKind> weight_quantizers;
};

// {"conv1": {"w": 4, "out": 4, "weight_quantizer": "std-per-axis"}}: keys w, out (1, 2, 4 or 8) and
// weight_quantizer (max, max-per-axis, std, std-per-axis); errors name the file and the entry.
NodeConfig read_node_config(const std::filesystem::path& file);

// The file read_node_config() reads back as `config`.
std::string node_config_json(const NodeConfig& config);

// "max", "max-per-axis", "std", "std-per-axis"; throws listing them.
WeightQuantizerKind parse_weight_quantizer(const std::string& name);

// The summary the CLI prints: layers (placement, bits, SQNR), unmapped nodes, accuracy.
std::string summary_text(const GenerateResult& result);

}  // namespace statiq::codegen
