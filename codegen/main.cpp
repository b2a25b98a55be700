// codegen/main.cpp — the statiq-codegen command line: the main job (model -> quantized C++ engine,
// codegen/generate), and run-float (the float reference executor on .npy samples).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <new>
#include <iostream>
#include <optional>
#include <stdexcept>

#include "codegen/compare/compare.hpp"
#include "codegen/emit/cpp_escape.hpp"
#include "codegen/input/input_file.hpp"
#include "codegen/exec/float_executor.hpp"
#include "codegen/generate/generate.hpp"
#include "codegen/legalize/legalize.hpp"
#include "codegen/lower/custom_pattern.hpp"
#include "codegen/normalize/normalize.hpp"
#include "codegen/onnx/load_onnx.hpp"
#include "statiq/io/npy.hpp"

namespace {

using namespace statiq::codegen;

struct RunFloatArgs {
  std::string model;
  std::string input;
  std::optional<std::int64_t> row;
  std::string output;
};

// Runs the model on one row of the input array, or on every row when the array is [N, ...] and
// the model's input has batch 1; writes the stacked outputs.
int run_float(const RunFloatArgs& args) {
  const ir::Graph graph = load_onnx(args.model);
  if (graph.inputs.size() != 1 || graph.outputs.size() != 1)
    throw std::runtime_error("run-float supports models with one input and one output; '" + args.model + "' has " +
                             std::to_string(graph.inputs.size()) + " and " + std::to_string(graph.outputs.size()));
  const ir::Tensor& input = graph.tensor(graph.inputs[0]);
  if (!input.has_static_shape())
    throw std::runtime_error("graph input '" + input.name + "' has no static shape");
  const ir::Dims in_shape = *input.shape;
  const auto per_row = static_cast<std::size_t>(ir::element_count(in_shape));
  if (per_row == 0)
    throw std::runtime_error("graph input '" + display_name(input.name) + "' of '" + printable(args.model) +
                             "' has the shape " + ir::to_string(in_shape) +
                             " with a zero dimension: no sample fits it; fix the model's input shape");

  check_input_file(args.input, "npy file");
  const statiq::io::NpyArray samples = statiq::io::read_npy(args.input);
  const std::vector<float> data = samples.as<float>();
  if (data.empty() || data.size() % per_row)
    throw std::runtime_error("input '" + args.input + "' holds " + std::to_string(data.size()) +
                             " values, not a multiple of the model input " + ir::to_string(in_shape));
  const auto rows = static_cast<std::int64_t>(data.size() / per_row);
  std::int64_t first = 0, last = rows;
  if (args.row) {
    if (*args.row < 0 || *args.row >= rows)
      throw std::runtime_error("--row " + std::to_string(*args.row) + " is outside [0, " + std::to_string(rows) + ")");
    first = *args.row;
    last = first + 1;
  }

  const exec::FloatExecutor executor(graph);
  std::vector<float> stacked;
  ir::Dims out_shape;
  for (std::int64_t r = first; r < last; ++r) {
    exec::Array x = exec::Array::floats(in_shape, std::vector<float>(data.begin() + r * per_row, data.begin() + (r + 1) * per_row));
    const exec::Array y = executor.run({x}).outputs[0];
    out_shape = y.shape;
    stacked.insert(stacked.end(), y.f.begin(), y.f.end());
    const auto top = std::max_element(y.f.begin(), y.f.end());
    std::printf("row %lld: output %s %s", static_cast<long long>(r), graph.outputs[0].c_str(), ir::to_string(y.shape).c_str());
    if (top != y.f.end()) std::printf(" argmax %lld (%g)", static_cast<long long>(top - y.f.begin()), *top);
    std::printf("\n");
  }
  if (!args.output.empty()) {
    // [rows, ...] with the output's batch-1 axis replaced by the row axis, like outputs.npy.
    std::vector<std::size_t> shape;
    shape.push_back(static_cast<std::size_t>(last - first));
    for (std::size_t d = (!out_shape.empty() && out_shape[0] == 1) ? 1 : 0; d < out_shape.size(); ++d)
      shape.push_back(static_cast<std::size_t>(out_shape[d]));
    statiq::io::write_npy<float>(args.output, shape, stacked);
  }
  return 0;
}

// check: check_model_compatibility — per node, its layer or the rule it breaks and the fix.
int check(const std::string& model, const std::string& target) {
  ir::Graph graph = load_onnx(model);
  normalize::normalize(graph);
  const TargetInfo& t = find_target(target);
  std::cout << legalize::compatibility_text(legalize::check_compatibility(graph, t), t);
  return 0;
}

}  // namespace

// The main job's options on the command line.
void add_generate_options(CLI::App& app, GenerateOptions& o, std::string& policy, std::string& method,
                          std::string& weights, std::string& activations, std::string& preprocess,
                          std::string& identity) {
  // No CLI::ExistingFile: its exit status is 105; a missing or unreadable model is refused (exit 1)
  // by the loader, naming the file.
  app.add_option("model", o.model, "the float ONNX model");
  app.add_option("-t,--target", o.target, target_names(TargetSpelling::cli) + " (default cpu-int8)");
  app.add_option("-c,--calib", o.calib,
                 "calibration samples: .npy [N, ...], .npz, ONNX .pb (test_data_set folders) or a folder of images");
  app.add_option("-o,--output", o.output_dir, "folder for the generated files (written atomically)");
  app.add_option("--name", o.name, "C++ namespace of the generated code (default: the model file's stem)");
  app.add_option("--calib-samples", o.read.max_samples, "use only the first N calibration samples");
  app.add_option("--calib-method", method, "minmax (default), percentile, entropy, mse (least quantization error at the tensor's bits)");
  app.add_option("--percentile", o.calibration.percentile, "percentile for --calib-method percentile (99.999)");
  app.add_option("--preprocess", preprocess,
                 "image folders: none (0..255), unit (/255), imagenet, caffe2, mxnet");
  app.add_option("--weight-bits", o.lower.weight_bits, "weight bits of every layer (target default)");
  app.add_option("--activation-bits", o.lower.activation_bits, "activation bits of every layer (target default)");
  app.add_option("--node-config", o.node_config,
                 R"(JSON per node: {"conv1": {"w": 4, "out": 4, "weight_quantizer": "std"}})");
  app.add_option("--weight-quantizer", weights, "max, max-per-axis (default), std, std-per-axis");
  app.add_option("--activations", activations, "cpu-int8: uint8 (default), int8, int8-symmetric");
  app.add_flag("--reduce-range", o.quantize.reduce_range, "cpu-int8: 7-bit weights (hosts without VNNI)");
  app.add_flag("--cross-layer-equalization", o.ptq.cross_layer_equalization,
               "rescale the channels of Conv -> [Relu] -> Conv chains so both weight ranges match (exact in float)");
  app.add_flag("--activation-range-search", o.ptq.activation_range_search,
               "choose each layer's activation range by the model's output error on the calibration samples");
  // A word, turned into the enum's number for CLI11 (which reads enums as integers); anything else
  // is a usage error naming the choices.
  const auto one_of = [](std::map<std::string, int> words, std::string what) {
    return CLI::Validator(
        [words, what](std::string& v) -> std::string {
          const auto it = words.find(v);
          if (it == words.end()) return "'" + v + "' is not one of " + what;
          v = std::to_string(it->second);
          return "";
        },
        what);
  };
  app.add_option("--weight-scale-search", o.ptq.weight_scale_search,
                 "per weight group the clipping scale of least error instead of max|w|: weight (the weights' MSE) or "
                 "output (the layer's output MSE on the calibration samples)")
      ->transform(one_of({{"weight", int(ptq::ScaleSearch::weight_error)}, {"output", int(ptq::ScaleSearch::output_error)}},
                     "weight|output"));
  app.add_option_function<ptq::BiasReference>(
         "--bias-correction",
         [&o](const ptq::BiasReference& r) {
           o.ptq.bias_correction = true;
           o.ptq.bias_reference = r;
         },
         "fold a mean output shift into the bias (calibration samples): weights (the shift quantizing the weights "
         "causes) or float (the layer's whole mean error against the float model)")
      ->transform(one_of({{"weights", int(ptq::BiasReference::quantized_input)}, {"float", int(ptq::BiasReference::float_input)}},
                     "weights|float"));
  app.add_flag("--adaround", o.ptq.adaround,
               "round each weight up or down to minimise the layer's output error (AdaRound; calibration samples)");
  app.add_option("--adaround-iterations", o.ptq.adaround_options.iterations, "AdaRound steps per layer (1000)")
      ->check(CLI::Range(1, 1000000));
  app.add_option_function<std::string>(
         "--budget", [&o](const std::string& b) { o.budget = ptq::parse_budget(b); },
         "choose each conv/dense layer's weight bits among the target's: bytes=N or bytes=P% (weight memory, "
         "least output error), drop=P (accuracy points lost vs float) or sqnr=DB (output SQNR floor), least memory; "
         "writes <name>_node_config.json")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            try {
              ptq::parse_budget(v);
            } catch (const std::exception& e) {
              return e.what();
            }
            return "";
          },
          "BUDGET"));
  app.add_option("--report-html", o.report_html,
                 "also write the report as one self-contained HTML page (weight and activation histograms, per-layer "
                 "SQNR without and with each post-training method, --budget's sensitivity table)");
  app.add_flag("--budget-activations", o.budget_activations,
               "--budget drop=/sqnr= also chooses each conv/dense layer's output bits (lowered after the weights, as far as "
               "the floor allows)");
  app.add_option("--budget-samples", o.budget_samples,
                 "evaluation samples --budget measures each choice on, spread over the set (1000; 0: all)");
  app.add_option("--ptq-samples", o.ptq.max_samples,
                 "calibration samples --bias-correction and --adaround read (256; 0: all)");
  app.add_option("--unmapped", policy,
                 "nodes the target cannot run: error (default on hardware), host (integer, on the host CPU), "
                 "float (the rest stays float)");
  app.add_option("--nodes-to-exclude", o.lower.nodes_to_exclude,
                 "nodes kept float (onnxruntime's nodes_to_exclude): the integer engine stops before the first")
      ->delimiter(',');
  app.add_option("--nodes-to-quantize", o.lower.nodes_to_quantize, "only these nodes are integer (default: all)")
      ->delimiter(',');
  app.add_option("--identity-conv", identity,
                 "custom patterns: relu, gap or all — a lone Relu / GlobalAveragePool becomes an identity 1x1 "
                 "convolution carrying it (QuantizeML's workaround)");
  app.add_option("--eval", o.eval, "samples for accuracy (default: the calibration samples)");
  app.add_option("--labels", o.labels, ".npy labels of the evaluation samples: report accuracy");
  app.add_option("--eval-samples", o.max_eval, "evaluate on the first N samples only");
  app.add_option("--golden", o.golden, "golden vectors in the generated self-test (3)");
  app.add_option("--qdq", o.qdq,
                 "cpu-int8: also write the quantized model as ONNX for onnxruntime (file.onnx), a drop-in "
                 "replacement for the float model (same input/output names, shapes, float types): QDQ, or with "
                 "--dynamic its DynamicQuantizeLinear -> ConvInteger/MatMulInteger form");
  app.add_option("--board", o.board,
                 "the board whose data memory the arena must fit, checked when the engine compiles "
                 "(statiq/targets/boards.hpp): mps2-an386 (Cortex-M4), mps2-an500 (Cortex-M7), mps3-an547 (Cortex-M55)");
  app.add_option("--qoperator", o.qoperator,
                 "cpu-int8: also write the quantized model in ONNX's QOperator form (file.onnx: QLinearConv, QGemm, "
                 "QLinearAdd, QLinearGlobalAveragePool ...), which onnxruntime runs without graph optimisation");
  app.add_option("--tflite", o.tflite,
                 "tflite-int8 / tflite-int8-single-rounding / tflite-int8-x86: also write the quantized model as a "
                 "TensorFlow Lite flatbuffer (file.tflite) with the engine's integers, for TFLite, TFLite Micro and "
                 "CMSIS-NN (one graph for the three; tflite-int8-x86's engine rounds as TFLite's x86 kernels)");
  app.add_flag("--dynamic", o.dynamic,
               "cpu-int8: onnxruntime's dynamic quantization (int8 weights; each Conv/Gemm quantizes its float "
               "input to uint8 at run time; float between layers); --weight-quantizer max (per tensor) or "
               "max-per-axis (default)");
}

// Turns the option strings into their enums; throws naming the option and the choices.
// --legalize and its refinements, for generate and compare alike.
struct LegalizeArgs {
  bool legalize = false, approximate_pads = false, approximate_average = false;
  std::string input_pixels;
};

void add_legalize_options(CLI::App& app, LegalizeArgs& a) {
  app.add_flag("--legalize", a.legalize,
               "rewrite the model to fit the target (1x1 stride 2 as 3x3, pads, kernels, identity convs ...), each "
               "rewrite float-checked and reported; what stays unfixable runs on the host");
  app.add_flag("--approximate-pads", a.approximate_pads,
               "with --legalize: symmetric pads become \"same\" (one-pixel shift, error reported) instead of the "
               "exact rewrites");
  app.add_flag("--approximate-average", a.approximate_average,
               "with --legalize: an AveragePool to 1x1 whose window misses the last rows becomes a global average "
               "(error reported)");
  app.add_option("--input-pixels", a.input_pixels,
                 "with --legalize on Akida: what the normalised input is in pixels, folded into the input layer: "
                 "imagenet, none (default: from the samples' range when they are negative)");
}

void finish_legalize_options(const LegalizeArgs& a, GenerateOptions& o) {
  if (!a.legalize && !a.approximate_pads && !a.approximate_average && a.input_pixels.empty()) return;
  o.legalize = legalize::LegalizeOptions{};
  o.legalize->approximate_pads = a.approximate_pads;
  o.legalize->input_pixels = a.input_pixels;
  o.legalize->approximate_average = a.approximate_average;
}

void finish_generate_options(GenerateOptions& o, const std::string& policy, const std::string& method,
                             const std::string& weights, const std::string& activations, const std::string& preprocess,
                             const std::string& identity) {
  if (!identity.empty()) {
    if (identity == "relu") o.lower.custom_patterns = identity_conv_patterns_relu();
    else if (identity == "gap") o.lower.custom_patterns = identity_conv_patterns_gap();
    else if (identity == "all") o.lower.custom_patterns = identity_conv_patterns();
    else throw std::runtime_error("--identity-conv " + identity + ": choose relu, gap or all");
  }
  if (o.model.empty()) throw std::runtime_error("no model given (statiq-codegen model.onnx --target ... --calib ...)");
  if (o.calib.empty())
    throw std::runtime_error("--calib is required: samples to measure activation ranges on (with --dynamic: to "
                             "measure accuracy and make golden vectors)");
  if (o.dynamic && !activations.empty())
    throw std::runtime_error("--activations with --dynamic: dynamic quantization's activations are uint8, chosen per "
                             "run by DynamicQuantizeLinear; drop --activations");
  if (!policy.empty()) {
    if (policy == "error") o.policy = UnmappedPolicy::error;
    else if (policy == "host") o.policy = UnmappedPolicy::host;
    else if (policy == "float") o.policy = UnmappedPolicy::float_tail;
    else throw std::runtime_error("--unmapped " + policy + ": choose error, host or float");
  }
  if (!method.empty()) o.calibration.method = calib::parse_calibration_method(method);
  if (!weights.empty()) o.quantize.weights = parse_weight_quantizer(weights);
  if (!activations.empty()) {
    if (activations == "uint8") o.quantize.activations = ActivationType::uint8_asymmetric;
    else if (activations == "int8") o.quantize.activations = ActivationType::int8_asymmetric;
    else if (activations == "int8-symmetric") o.quantize.activations = ActivationType::int8_symmetric;
    else throw std::runtime_error("--activations " + activations + ": choose uint8, int8 or int8-symmetric");
    o.lower.signed_activations = o.quantize.activations != ActivationType::uint8_asymmetric;
  }
  if (!preprocess.empty()) o.read.image.normalization = calib::parse_normalization(preprocess);
}

int main(int argc, char** argv) {
  CLI::App app{"statiq-codegen: a float ONNX model -> a quantized, compile-time checked, bit-exact C++ engine"};
  app.footer(R"(Examples:
  statiq-codegen mnist8.onnx --target cpu-int8 --calib digits.npy -o out/
  statiq-codegen mnist8.onnx --target akida-v2 --calib digits.npy --unmapped host -o out/
  statiq-codegen mnist8.onnx --target cpu-int8 --dynamic --calib digits.npy -o out/ --qdq out/mnist8_dynamic.onnx
  statiq-codegen model.onnx --target akida-v2 --weight-bits 4 --activation-bits 4 --calib imgs/ --preprocess unit -o out/
  statiq-codegen run-float model.onnx --input x.npy -o y.npy
  statiq-codegen check model.onnx --target akida-v1
  statiq-codegen compare model.onnx --target cpu-int8 --calib digits.npy --input x.npy --row 0 --against onnxruntime
  statiq-codegen compare model.onnx --target tflite-int8 --calib digits.npy --input x.npy --against tflite
  statiq-codegen model.onnx --target tflite-int8 --calib digits.npy -o out/ --tflite out/model.tflite
  statiq-codegen model.onnx --target akida-v2 --legalize --calib samples.npy -o out/

The generated out/<name>.hpp names the network as statiq types: compile it with the target's rules
checked, link out/<name>_data.cpp, and build out/<name>_selftest.cpp to check the golden vectors.
Exit status: 0 success, 1 the input was refused (the message says what and where), 2 usage.)");
  app.footer([] { return targets_help(); });  // printed before the examples
  app.require_subcommand(0, 1);
  std::uint64_t max_bytes = default_max_input_bytes;
  const auto add_max_input_bytes = [&](CLI::App& a) {
    a.add_option("--max-input-bytes", max_bytes,
                 "the largest input file, declared .npz member, external tensor or decoded image accepted (" +
                     std::to_string(default_max_input_bytes) + "); larger ones are refused before being read")
        ->check(CLI::Validator(
            [](std::string& v) -> std::string {
              const bool digits = !v.empty() && v.find_first_not_of("0123456789") == std::string::npos;
              return digits && v.find_first_not_of('0') != std::string::npos ? "" : "a positive number of bytes";
            },
            "BYTES"));
  };
  add_max_input_bytes(app);

  GenerateOptions generate_options;
  std::string policy, method, weights, activations, preprocess, identity;
  add_generate_options(app, generate_options, policy, method, weights, activations, preprocess, identity);
  LegalizeArgs legalize_args;
  add_legalize_options(app, legalize_args);
  std::string weights_encoding = "literal";
  app.add_option("--weights-encoding", weights_encoding,
                 "literal (default: string literals in <name>_data.cpp, any compiler) or incbin (<name>_weights.bin "
                 "beside it, assembled in by .incbin: GNU toolchains on ELF, compiles ~100x faster)");
  std::string check_model, check_target = "akida-v2";
  CLI::App* check_cmd = app.add_subcommand(
      "check", "per node: the layer it maps to on the target, or the rule it breaks and the rewrite that fixes it");
  check_cmd->add_option("model", check_model, "model.onnx")->required();
  add_max_input_bytes(*check_cmd);
  check_cmd->add_option("-t,--target", check_target, target_names(TargetSpelling::cli) + " (default akida-v2)");
  RunFloatArgs run_float_args;
  CLI::App* run_float_cmd = app.add_subcommand("run-float", "run the float reference executor on .npy samples");
  run_float_cmd->add_option("model", run_float_args.model, "model.onnx")->required();
  run_float_cmd->add_option("--input", run_float_args.input, "samples (.npy), one model input or [N, ...]")->required();
  add_max_input_bytes(*run_float_cmd);
  run_float_cmd->add_option("--row", run_float_args.row, "run only this row of the samples");
  run_float_cmd->add_option("-o,--output", run_float_args.output, "write the outputs (.npy, [rows, ...])");
  // compare: per layer, the engine (integer simulation) against onnxruntime on the QDQ export, TFLite on the .tflite
  // export, or the float model.
  CompareOptions compare_options;
  std::string cmp_policy, cmp_method, cmp_weights, cmp_activations, cmp_preprocess, cmp_identity;
  std::string cmp_against = "onnxruntime";
  CLI::App* compare_cmd = app.add_subcommand(
      "compare", "per layer, the engine's tensor against onnxruntime's (QDQ export), TFLite's (.tflite export) or the "
                 "float model's: max |diff|, "
                 "mismatching integers, SQNR; the first layer that differs is marked");
  add_generate_options(*compare_cmd, compare_options.generate, cmp_policy, cmp_method, cmp_weights, cmp_activations,
                       cmp_preprocess, cmp_identity);
  LegalizeArgs cmp_legalize_args;  // the same model as generate makes, legalised the same way
  add_legalize_options(*compare_cmd, cmp_legalize_args);
  compare_cmd->add_option("--input", compare_options.input, "the input (.npy): one model input or [N, ...] rows")
      ->required();
  add_max_input_bytes(*compare_cmd);
  compare_cmd->add_option("--row", compare_options.row, "the row of --input to compare on (0)");
  compare_cmd->add_option("--against", cmp_against,
                          "onnxruntime (default: tools/ort, node), tflite (tools/tflite/run_tflite: TFLite's builtin "
                          "kernels on the --tflite export, tflite-int8 targets), tflite-xnnpack, or float");
  compare_cmd->add_option("--run-tflite", compare_options.tflite_runner.run_tflite,
                          "tools/tflite/run_tflite (default: the one this build made)");
  compare_cmd->add_option("--min-sqnr", compare_options.min_sqnr_db,
                          "--against float: a layer under this SQNR (dB) differs (20)");
  compare_cmd->add_option("--node", compare_options.runner.node, "the node executable for onnxruntime (node)");
  compare_cmd->add_option("--ort-run", compare_options.runner.run_js, "tools/ort/run.js (default: this source tree's)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help is 0; every usage error is 2 as the help promises (CLI11's own codes reach 105)
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    set_max_input_bytes(max_bytes);
    if (*run_float_cmd) return run_float(run_float_args);
    if (*check_cmd) return check(check_model, check_target);
    if (*compare_cmd) {
      finish_generate_options(compare_options.generate, cmp_policy, cmp_method, cmp_weights, cmp_activations,
                              cmp_preprocess, cmp_identity);
      finish_legalize_options(cmp_legalize_args, compare_options.generate);
      compare_options.against = parse_compare_against(cmp_against);
      std::cout << comparison_text(compare(compare_options));
      return 0;
    }
    finish_legalize_options(legalize_args, generate_options);
    finish_generate_options(generate_options, policy, method, weights, activations, preprocess, identity);
    generate_options.weights_encoding = parse_weights_encoding(weights_encoding);
    const GenerateResult result = generate(generate_options);
    std::cout << summary_text(result);
    for (const auto& f : result.written) std::cout << "wrote " << terminal_text(f.string()) << "\n";
    return 0;
  } catch (const std::bad_alloc&) {
    std::cerr << "statiq-codegen: error: out of memory: an input is larger than this machine can hold (a shape or "
                 "size in a model or sample file?); check the inputs or lower --max-input-bytes\n";
    return 1;
  } catch (const std::length_error& e) {
    std::cerr << "statiq-codegen: error: a size taken from an input is impossible (" << e.what()
              << "); check the model and sample files\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "statiq-codegen: error: " << terminal_text(e.what()) << "\n";
    return 1;
  }
}
