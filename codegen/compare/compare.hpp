// codegen/compare/compare.hpp — per-layer comparison of the engine (the integer simulation, bit for
// bit the generated code) with onnxruntime on the QDQ export, TensorFlow Lite on the .tflite export,
// or the float model: the first layer where two runs part.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "codegen/generate/generate.hpp"
#include "codegen/ir/graph.hpp"
#include "codegen/model/lowered_model.hpp"
#include "codegen/simulate/simulate.hpp"

namespace statiq::codegen {

// What the engine is compared with.
enum class CompareAgainst {
  onnxruntime,  // tools/ort/run.js on the QDQ export: integers, exact (mismatch count)
  float_model,  // the float executor on the normalised graph: quantization error (SQNR)
  tflite,       // tools/tflite/run_tflite on the .tflite export, TFLite's builtin kernels: integers
  tflite_xnnpack,  // the same with TFLite's XNNPACK delegate (QS8)
};

// "onnxruntime", "tflite", "tflite-xnnpack" or "float"; throws listing them.
CompareAgainst parse_compare_against(const std::string& name);

// How onnxruntime is run: node on tools/ort/run.js (scripts/setup.sh installs onnxruntime-node there).
struct OrtRunner {
  std::string node = "node";        // the node executable (a name looked up on PATH, or a path)
  std::filesystem::path run_js;     // empty: tools/ort/run.js of this source tree
};

// How TFLite is run: tools/tflite/run_tflite (built with this tree when scripts/setup.sh installed
// tfjs-tflite-node).
struct TfliteRunner {
  std::filesystem::path run_tflite;  // empty: the one this build made
};

// One layer of the comparison, in the engine's layer order (Dequantize layers are skipped).
struct LayerComparison {
  std::size_t layer = 0;               // index in LoweredModel::layers
  std::string name;                    // Layer::name
  std::string tensor;                  // the ONNX tensor it stands for (the graph input for Quantize)
  Shape shape{};                       // NHWC
  std::size_t elements = 0;
  double max_abs_diff = 0;             // of the dequantized values (real units)
  std::optional<std::size_t> mismatches;  // differing integers (onnxruntime, tflite)
  // tflite: differing integers when the layer alone is fed TFLite's own inputs (simulate_layer), so
  // a difference made earlier does not count here: the operators that differ on their own.
  std::optional<std::size_t> local_mismatches;
  double sqnr_db = 0;                  // the other run as the reference; +inf when equal
  bool differs = false;
};

struct Comparison {
  CompareAgainst against = CompareAgainst::float_model;
  std::string model;                   // LoweredModel::name
  std::string target;
  std::vector<LayerComparison> layers;
  std::optional<std::size_t> first_difference;  // index into `layers`
  double min_sqnr_db = 0;              // float: the threshold under which a layer "differs"
  bool dynamic = false;                // the model is dynamic (--dynamic): float tensors compared
};

// Against the float model: a layer differs when its SQNR is below min_sqnr_db (quantization
// always changes values, so "differs" means "more than quantization noise of this size").
Comparison compare_with_float(const LoweredModel& model, const ir::Graph& normalized_graph, const float* input_nchw,
                              double min_sqnr_db = 20.0);

// Every layer's integer tensor as onnxruntime computes it on the QDQ export of `exported`, in
// statiq's NHWC order (empty for a Dequantize layer). Throws std::runtime_error with what to do
// when node, run.js or onnxruntime-node is missing, or onnxruntime fails (its messages attached).
std::vector<std::vector<std::int32_t>> onnxruntime_layers(const LoweredModel& exported, const float* input_nchw,
                                                          const OrtRunner& runner = {});
// The same for a dynamic model (--dynamic): every layer's float output on the dynamic export.
std::vector<std::vector<float>> onnxruntime_float_layers(const LoweredModel& exported, const float* input_nchw,
                                                         const OrtRunner& runner = {});

// Against onnxruntime on the QDQ export of `exported` (normally `model` itself; a model quantized
// differently shows where two quantizations part). A layer differs when any integer differs (for a
// dynamic model: the dynamic export, and any float differing in its bits).
// The two models must have the same layers and shapes.
Comparison compare_with_onnxruntime(const LoweredModel& model, const float* input_nchw, const OrtRunner& runner = {},
                                    const LoweredModel* exported = nullptr);

// Against TensorFlow Lite (builtin kernels, or XNNPACK) on the .tflite export of `model` (a
// model of a tflite target: tflite-int8, -single-rounding, -x86), one thread, every layer an output of the
// exported graph. Throws std::runtime_error with what to do when run_tflite is missing or fails.
Comparison compare_with_tflite(const LoweredModel& model, const float* input_nchw, bool xnnpack,
                               const TfliteRunner& runner = {});

struct CompareOptions {
  GenerateOptions generate;            // model, target, calib, quantization (nothing is written)
  std::filesystem::path input;         // .npy: one model input, or [N, ...] rows
  std::size_t row = 0;
  CompareAgainst against = CompareAgainst::onnxruntime;
  double min_sqnr_db = 20.0;           // float only
  OrtRunner runner;
  TfliteRunner tflite_runner;
};

// The CLI's job: quantize as generate() does (no emit), then compare row `row` of the input.
Comparison compare(const CompareOptions& options);

// The table the CLI prints, the first differing layer marked and named at the end.
std::string comparison_text(const Comparison& comparison);

}  // namespace statiq::codegen
