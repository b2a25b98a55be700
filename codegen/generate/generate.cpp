// codegen/generate/generate.cpp — see generate.hpp.
#include "codegen/generate/generate.hpp"

#include <openssl/evp.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "codegen/emit/cpp_escape.hpp"
#include "codegen/emit/emit.hpp"
#include "codegen/emit/report_html.hpp"
#include "codegen/exec/float_executor.hpp"
#include "codegen/exec/parallel_for.hpp"
#include "codegen/export/dynamic_export.hpp"
#include "codegen/export/qdq_export.hpp"
#include "codegen/export/qoperator_export.hpp"
#include "codegen/export/tflite_export.hpp"
#include "codegen/input/input_file.hpp"
#include "codegen/normalize/normalize.hpp"
#include "codegen/onnx/load_onnx.hpp"
#include "codegen/quantize/dynamic.hpp"
#include "codegen/simulate/simulate.hpp"
#include "statiq/io/npy.hpp"
#include "statiq/targets/boards.hpp"

namespace statiq::codegen {
namespace {

std::string sha256_of(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!EVP_Digest(bytes.data(), bytes.size(), digest, &n, EVP_sha256(), nullptr))
    throw std::runtime_error("cannot hash " + file.string());
  std::string hex;
  for (unsigned int i = 0; i < n; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

// The generated namespace when none is given: the file's stem ("mnist-8.onnx" -> mnist_8), or its
// folder's name for the usual "model.onnx" (which would clash with the `model` type it declares).
std::string default_name(const std::filesystem::path& model) {
  std::string stem = model.stem().string();
  if (stem == "model" && model.has_parent_path()) stem = std::filesystem::absolute(model).parent_path().filename().string();
  return cpp_identifier(stem);
}

// Fails fast, before calibration, when the output folder could not be written, without creating
// anything (a refusal later must leave nothing behind): the folder, or its nearest existing
// ancestor, must be a writable folder.
void check_output_dir(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path existing = fs::absolute(dir, ec);
  while (!existing.empty() && !fs::exists(existing, ec)) existing = existing.parent_path();
  auto refuse = [&](const std::string& why) {
    throw std::runtime_error("output folder '" + dir.string() + "' cannot be written (" + why +
                             "): choose an output folder you can write");
  };
  if (existing.empty() || !fs::is_directory(existing, ec)) refuse("'" + existing.string() + "' is not a folder");
  const fs::path probe = existing / (".statiq-write-test-" + std::to_string(::getpid()));
  {
    std::ofstream f(probe);
    if (!f) refuse("'" + existing.string() + "' is not writable");
  }
  fs::remove(probe, ec);
}

std::size_t argmax(std::span<const float> v) {
  return std::size_t(std::max_element(v.begin(), v.end()) - v.begin());
}

// Sizes must match (the caller says why it cannot compare otherwise).
double cosine(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size()) throw std::logic_error("cosine of vectors of different sizes");
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  return aa == 0 || bb == 0 ? (aa == bb ? 1.0 : 0.0) : ab / std::sqrt(aa * bb);
}

}  // namespace

WeightQuantizerKind parse_weight_quantizer(const std::string& name) {
  if (name == "max") return WeightQuantizerKind::max;
  if (name == "max-per-axis") return WeightQuantizerKind::max_per_axis;
  if (name == "std") return WeightQuantizerKind::std;
  if (name == "std-per-axis") return WeightQuantizerKind::std_per_axis;
  throw std::runtime_error("weight quantizer '" + name + "': choose max, max-per-axis, std or std-per-axis");
}

NodeConfig read_node_config(const std::filesystem::path& path) {
  const std::string text = read_input_file(path, "--node-config file");
  const std::string file = "--node-config '" + printable(path.string()) + "'";
  nlohmann::json j;
  // A key given twice would silently take the last value (nlohmann's default): refused instead.
  std::vector<std::set<std::string>> keys_per_object;
  std::string duplicate;
  const auto no_duplicates = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (event == E::object_start) keys_per_object.emplace_back();
    else if (event == E::object_end && !keys_per_object.empty()) keys_per_object.pop_back();
    else if (event == E::key && !keys_per_object.empty() && !keys_per_object.back().insert(parsed.get<std::string>()).second &&
             duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
  try {
    j = nlohmann::json::parse(text, no_duplicates);
  } catch (const std::exception& e) {
    throw std::runtime_error(file + ": not valid JSON (" + printable(e.what()) + "); fix the file");
  }
  if (!duplicate.empty())
    throw std::runtime_error(file + ": the key '" + display_name(duplicate) +
                             "' is given twice in one object; keep one");
  if (!j.is_object())
    throw std::runtime_error(file + ": expected an object { \"node name\": { \"w\": 4, \"out\": 4 } }");
  NodeConfig out;
  for (const auto& [node, entry] : j.items()) {
    if (!entry.is_object())
      throw std::runtime_error(file + ": entry '" + display_name(node) + "' must be an object (keys w, out, weight_quantizer)");
    BitsOverride b;
    for (const auto& [key, value] : entry.items()) {
      if (key == "weight_quantizer") {
        if (!value.is_string()) throw std::runtime_error(file + ": '" + display_name(node) + "'.weight_quantizer must be a string");
        try {
          out.weight_quantizers[node] = parse_weight_quantizer(value.get<std::string>());
        } catch (const std::exception& e) {
          throw std::runtime_error(file + ": '" + display_name(node) + "': " + e.what());
        }
        continue;
      }
      if (key != "w" && key != "out")
        throw std::runtime_error(file + ": '" + display_name(node) + "' has an unknown key '" + display_name(key) + "' (use w, out, weight_quantizer)");
      if (!value.is_number_integer() || (value != 1 && value != 2 && value != 4 && value != 8))
        throw std::runtime_error(file + ": '" + display_name(node) + "'." + key + " must be 1, 2, 4 or 8");
      (key == "w" ? b.w : b.out) = value.get<int>();
    }
    if (b.w || b.out) out.bits[node] = b;
  }
  return out;
}

std::string node_config_json(const NodeConfig& config) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [node, b] : config.bits) {
    if (b.w) j[node]["w"] = *b.w;
    if (b.out) j[node]["out"] = *b.out;
  }
  for (const auto& [node, q] : config.weight_quantizers) {
    const char* names[] = {"max", "max-per-axis", "std", "std-per-axis"};
    for (const char* name : names)
      if (parse_weight_quantizer(name) == q) j[node]["weight_quantizer"] = name;
  }
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

namespace {

// The per-sample threads free their tensors into their own malloc arenas, which glibc keeps: the
// memory goes back to the system here, after each parallel phase, so the next phase's peak does
// not stack on it (~100-200 MB on a legalised ResNet-50).
void release_freed_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

// Reads sample files against the graph as loaded (legalization may pre-pad the input the model
// takes) and, once the model is legalised, rewrites each input the way legalization asks.
class SampleReader {
 public:
  explicit SampleReader(const ir::Graph& loaded) : loaded_(loaded) {}

  calib::CalibrationSet read(const std::filesystem::path& path, const calib::ReadOptions& options) const {
    calib::CalibrationSet set = calib::read_calibration_set(path, loaded_, options);
    if (legalization_) legalize_inputs(set);
    return set;
  }
  // From now on, every set read (and `set`) gets the legalised input.
  void legalised(const legalize::LegalizeResult& result, calib::CalibrationSet& set) {
    legalization_ = &result;
    legalize_inputs(set);
  }

 private:
  void legalize_inputs(calib::CalibrationSet& set) const {
    for (calib::Sample& s : set.samples)
      for (auto& [name, x] : s.inputs) x = legalize::legalized_input(x, *legalization_);
  }
  const ir::Graph& loaded_;
  const legalize::LegalizeResult* legalization_ = nullptr;
};

// What SampleReader needs of the graph as loaded: its inputs (no nodes, no weights: a copy of
// those would cost 100 MB on a 25 M-parameter model).
ir::Graph inputs_of(const ir::Graph& g) {
  ir::Graph c;
  c.name = g.name;
  c.source = g.source;
  c.opset = g.opset;
  c.inputs = g.inputs;
  c.outputs = g.outputs;
  for (const std::string& in : g.inputs)
    if (g.has_tensor(in)) c.tensors.emplace(in, g.tensor(in));
  return c;
}

// The lowering and quantization options of the run: the unmapped policy (error by default on
// hardware, unless legalizing), the legalization's custom patterns, the per-node configuration.
void configure(const GenerateOptions& o, const TargetInfo& target, const ir::Graph& graph,
               const std::optional<legalize::LegalizeResult>& legalization, LowerOptions& lo, QuantizeOptions& qo) {
  lo = o.lower;
  lo.name = o.name.empty() ? default_name(o.model) : o.name;
  lo.policy = o.policy ? *o.policy : (target.hardware && !o.legalize ? UnmappedPolicy::error : UnmappedPolicy::host);
  if (legalization)
    for (const CustomPattern& p : legalization->custom_patterns) lo.custom_patterns.push_back(p);
  qo = o.quantize;
  qo.akida_v1_host_fallback = lo.policy == UnmappedPolicy::host;  // else the 20-bit refusal is an error
  if (!o.node_config.empty()) {
    const NodeConfig config = read_node_config(o.node_config);
    // A key names a node, or a graph input (its QuantizeLinear: "out" sets the input's bits).
    auto check = [&](const std::string& node) {
      const bool input = std::find(graph.inputs.begin(), graph.inputs.end(), node) != graph.inputs.end();
      if (!graph.find_node(node) && !input)
        throw std::runtime_error("--node-config '" + printable(o.node_config.string()) + "': no node or graph input "
                                 "named '" + display_name(node) + "' in " + printable(o.model.string()) +
                                 "; check the node names");
    };
    for (const auto& [node, bits] : config.bits) check(node), lo.node_bits[node] = bits;
    for (const auto& [node, q] : config.weight_quantizers) check(node), qo.weight_overrides[node] = q;
  }
}

// The float model against the integer simulation on the evaluation samples.
struct Evaluation {
  Quality quality;
  std::optional<Accuracy> accuracy;      // with labels
  std::vector<std::optional<double>> sqnr_db;  // per layer, averaged over the first samples
  std::vector<GoldenVector> golden;
};

// Whether the argmax of the model's output names a class: labels were given, the output comes out
// of a Softmax, or it has one axis of 2 or more values that is not as large as the input (which
// would be a reconstruction). Why not, otherwise.
std::string not_class_scores(const ir::Graph& graph, bool labelled) {
  if (labelled) return "";
  const std::string& out = graph.outputs.at(0);
  const std::int64_t producer = graph.producer(out);
  if (producer >= 0 && graph.nodes[std::size_t(producer)].op_type == "Softmax") return "";
  const ir::Tensor& t = graph.tensor(out);
  if (!t.has_static_shape()) return "top-1 not measured: the model's output has no static shape";
  int axes = 0;
  for (const std::int64_t d : *t.shape) axes += d > 1;
  const std::int64_t n = ir::element_count(*t.shape);
  const ir::Tensor& in = graph.tensor(graph.inputs.at(0));
  const bool as_large_as_input = in.has_static_shape() && ir::element_count(*in.shape) == n;
  if (axes != 1 || as_large_as_input)
    return "top-1 not measured: the output (" + std::to_string(n) + " values" +
           (as_large_as_input ? ", as many as the input" : ", over " + std::to_string(axes) + " axes") +
           ") is not a vector of class scores (give --labels if it is)";
  return "";
}

// A layer whose integers never change over the evaluation samples while the float model's same
// tensor does: the engine would answer the same whatever the input. Refused, never generated.
void refuse_collapsed_layers(const LoweredModel& model, const std::vector<std::int32_t>& int_min,
                             const std::vector<std::int32_t>& int_max, const std::vector<float>& float_min,
                             const std::vector<float>& float_max, std::size_t samples) {
  for (std::size_t k = 0; k < model.layers.size(); ++k) {
    const Layer& l = model.layers[k];
    if (int_min[k] > int_max[k] || float_min[k] > float_max[k]) continue;  // not measured
    if (int_min[k] != int_max[k] || !(float_max[k] > float_min[k])) continue;
    const TensorQuantization& q = l.output;
    const double real = double(q.scale) * (double(int_min[k]) - q.zero_point);
    throw std::runtime_error(
        "node '" + l.name + "' (" + std::string(layer_kind_name(l.kind)) + "): its quantized output is " +
        std::to_string(int_min[k]) + " (real " + fmt::format("{:g}", real) + ") everywhere on all " +
        std::to_string(samples) + " evaluation samples, while the float model's tensor '" + l.output_tensor +
        "' varies over [" + fmt::format("{:g}", float_min[k]) + ", " + fmt::format("{:g}", float_max[k]) +
        "] (quantization step " + fmt::format("{:g}", q.scale) + "): the engine would give the same answer for "
        "every input. Check that the evaluation samples are preprocessed as the calibration samples are "
        "(--calib, --eval, --calib-samples)" +
        (q.bits < 8 ? " or give this tensor more bits (--node-config '{\"" + l.name + "\": {\"out\": 8}}')" : ""));
  }
}

Evaluation evaluate(const ir::Graph& graph, const LoweredModel& model, const calib::CalibrationSet& eval,
                    std::size_t n, const std::vector<std::int64_t>& labels, std::size_t golden) {
  const exec::FloatExecutor executor(graph);
  const std::string engine_output = model.layers.back().output_tensor;  // the tensor the engine ends with
  // Argmax is comparable when the engine ends at the model's output, or before a final Softmax, and
  // the output is a vector of class scores.
  std::string no_top1;
  for (const std::string& f : model.float_tail) {
    const ir::Node* node = graph.find_node(f);
    if (!node || node->op_type != "Softmax")
      no_top1 = "top-1 not measured: the float tail after the engine ('" + f + "') is not simulated";
  }
  if (no_top1.empty()) no_top1 = not_class_scores(graph, !labels.empty());
  Evaluation e;
  std::size_t agree = 0, float_right = 0, int_right = 0, cosines = 0;
  double cos_sum = 0;
  const std::size_t layers = model.layers.size();
  std::vector<double> sqnr_sum(layers, 0.0);
  std::vector<int> sqnr_count(layers, 0);
  // The float tensor of each layer's output, for the stuck-layer check (every sample) and the SQNR.
  std::map<std::string, std::vector<std::size_t>> layers_of;
  for (std::size_t k = 0; k < layers; ++k) layers_of[model.layers[k].output_tensor].push_back(k);
  // Each sample's float run and integer simulation are independent: they run in parallel, each into
  // its own slot, and are summed below in sample order, so every figure is the sequential one.
  struct PerSample {
    std::size_t fp = 0, qp = 0;  // argmax of the float model and of the engine
    std::optional<double> cosine;
    std::string no_cosine;        // why the cosine could not be measured
    std::vector<LayerSqnr> sqnr;  // the first samples only
    std::optional<GoldenVector> golden;
    std::vector<std::int32_t> int_min, int_max;  // per layer, over the sample's integers
    std::vector<float> float_min, float_max;     // per layer, over the float model's same tensor
  };
  std::vector<PerSample> per_sample(n);
  WeightCache weights;  // laid out once for all the samples
  exec::parallel_for(n, [&](std::size_t s) {
    PerSample& r = per_sample[s];
    r.int_min.assign(layers, std::numeric_limits<std::int32_t>::max());
    r.int_max.assign(layers, std::numeric_limits<std::int32_t>::min());
    r.float_min.assign(layers, std::numeric_limits<float>::infinity());
    r.float_max.assign(layers, -std::numeric_limits<float>::infinity());
    const calib::Sample& sample = eval.samples[s];
    const exec::Array& x = sample.inputs.begin()->second;
    // The integer simulation first, so that the float run compares each layer's tensor as it
    // passes (per-layer SQNR of the first samples) instead of keeping them all: a float copy of
    // every layer's output per sample in flight (~100 MB on a legalised ResNet-50).
    const SimulationResult sim = simulate(model, x.f.data(), &weights);
    std::vector<std::optional<LayerSqnr>> sqnr_of_layer(layers);
    exec::RunOptions run_options;
    // The float tensors the figures read: the engine's output kept; every layer's tensor measured
    // (range, and SQNR for the first samples) as it passes.
    std::map<std::string, exec::Array> tensors;
    run_options.observer = [&](const ir::Node&, const std::string& name, const exec::Array& value) {
      const auto it = layers_of.find(name);
      if (name == engine_output) tensors[name] = value;
      if (it == layers_of.end()) return;
      if (s < 8)
        for (LayerSqnr& l : layer_sqnr(model, sim, {{name, value}}))
          for (const std::size_t k : it->second)
            if (model.layers[k].name == l.layer) sqnr_of_layer[k] = std::move(l);
      float lo = std::numeric_limits<float>::infinity(), hi = -lo;
      for (const float v : value.f)
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
      for (const std::size_t k : it->second) r.float_min[k] = lo, r.float_max[k] = hi;
    };
    const exec::RunResult fr = executor.run({x}, run_options);
    // The float model's value of the engine's output tensor (NCHW -> NHWC).
    if (auto it = tensors.find(engine_output); it == tensors.end()) {
      r.no_cosine = "cosine not measured: the float model has no tensor '" + engine_output + "' to compare the "
                    "engine's output with";
    } else if (it->second.f.size() != sim.dequantized.size()) {
      r.no_cosine = "cosine not measured: the float model's tensor '" + engine_output + "' has " +
                    std::to_string(it->second.f.size()) + " values, the engine's output " +
                    std::to_string(sim.dequantized.size());
    } else {
      const Shape sh = sim.output_shape;
      const std::vector<float> float_out = sh.h * sh.w > 1 ? nchw_to_nhwc(it->second.f.data(), sh) : it->second.f;
      r.cosine = cosine(float_out, sim.dequantized);
    }
    r.fp = argmax(fr.outputs[0].f);
    r.qp = argmax(sim.dequantized);
    for (std::size_t k = 0; k < layers; ++k) {
      if (sim.layers[k].empty()) continue;  // a float layer
      const auto [ilo, ihi] = std::minmax_element(sim.layers[k].begin(), sim.layers[k].end());
      r.int_min[k] = *ilo, r.int_max[k] = *ihi;
    }
    // per-layer SQNR (in layer order, as layer_sqnr gives it), averaged over the first samples
    for (std::optional<LayerSqnr>& l : sqnr_of_layer)
      if (l) r.sqnr.push_back(std::move(*l));
    if (s < golden) r.golden = GoldenVector{nchw_to_nhwc(x.f.data(), model.input_shape), sim.output, sim.dequantized};
  });
  std::string no_cosine;
  std::vector<std::int32_t> int_min(layers, std::numeric_limits<std::int32_t>::max()),
      int_max(layers, std::numeric_limits<std::int32_t>::min());
  std::vector<float> float_min(layers, std::numeric_limits<float>::infinity()),
      float_max(layers, -std::numeric_limits<float>::infinity());
  for (std::size_t s = 0; s < n; ++s) {
    PerSample& r = per_sample[s];
    agree += r.fp == r.qp;
    if (r.cosine) cos_sum += *r.cosine, ++cosines;
    if (!r.no_cosine.empty()) no_cosine = r.no_cosine;
    if (!labels.empty()) {
      float_right += std::int64_t(r.fp) == labels[s];
      int_right += std::int64_t(r.qp) == labels[s];
    }
    for (std::size_t k = 0; k < layers; ++k) {
      int_min[k] = std::min(int_min[k], r.int_min[k]), int_max[k] = std::max(int_max[k], r.int_max[k]);
      float_min[k] = std::min(float_min[k], r.float_min[k]), float_max[k] = std::max(float_max[k], r.float_max[k]);
    }
    for (const LayerSqnr& l : r.sqnr) {
      for (std::size_t k = 0; k < layers; ++k)
        if (model.layers[k].name == l.layer && std::isfinite(l.sqnr_db)) {
          sqnr_sum[k] += l.sqnr_db;
          ++sqnr_count[k];
        }
    }
    if (r.golden) e.golden.push_back(std::move(*r.golden));
  }
  if (!model.dynamic) refuse_collapsed_layers(model, int_min, int_max, float_min, float_max, n);
  e.sqnr_db.resize(layers);
  for (std::size_t k = 0; k < layers; ++k)
    if (sqnr_count[k]) e.sqnr_db[k] = sqnr_sum[k] / sqnr_count[k];
  Quality& q = e.quality;
  q.samples = n;
  if (n && no_top1.empty()) q.top1_agreement = double(agree) / double(n);
  if (cosines && no_cosine.empty()) q.mean_cosine = cos_sum / double(cosines);
  q.not_compared = no_top1.empty() ? no_cosine : no_cosine.empty() ? no_top1 : no_top1 + "; " + no_cosine;
  if (!labels.empty() && n && no_top1.empty())
    e.accuracy = Accuracy{"top-1", double(float_right) / double(n), double(int_right) / double(n), n};
  return e;
}

// The report the emitter writes: per layer the calibrated range and SQNR, the accuracy, and a note
// for everything the user should read (normalisation, legalization, dynamic quantization, nodes
// on the host or left in float).
Report report_of(const GenerateResult& r, const Ranges& ranges, const Evaluation& e,
                 const std::vector<std::string>& dynamic_notes) {
  Report report;
  report.layers.resize(r.model.layers.size());
  for (std::size_t i = 0; i < r.model.layers.size(); ++i) {
    if (auto it = ranges.find(r.model.layers[i].output_tensor); it != ranges.end()) {
      report.layers[i].range_min = it->second.min;
      report.layers[i].range_max = it->second.max;
    }
    report.layers[i].sqnr_db = e.sqnr_db[i];
  }
  report.quality = e.quality;
  report.accuracy = e.accuracy;
  for (const auto& a : r.normalize_actions) report.notes.push_back("normalised: " + a);
  if (r.legalization) {
    std::istringstream lines(r.legalization->to_text());
    for (std::string line; std::getline(lines, line);) report.notes.push_back("legalised: " + line);
  }
  for (const auto& note : dynamic_notes) report.notes.push_back(note);
  // A Pad's constant beyond what its tensor's quantization holds is saturated (as onnxruntime's QDQ
  // form saturates it): exact against onnxruntime, not against the float model, unless a max reads it.
  for (const Layer& l : r.model.layers) {
    if (!l.pad) continue;
    const TensorQuantization& q = l.output;
    const int lo = q.is_signed ? -(1 << (q.bits - 1)) : 0, hi = q.is_signed ? (1 << (q.bits - 1)) - 1 : (1 << q.bits) - 1;
    const double low = double(q.scale) * (lo - q.zero_point), high = double(q.scale) * (hi - q.zero_point);
    if (l.pad->value >= low - q.scale / 2 && l.pad->value <= high + q.scale / 2) continue;
    report.notes.push_back(fmt::format("node '{}' (Pad): its constant {:g} is outside what its tensor's quantization "
                                       "holds ([{:.4g}, {:.4g}]): it pads with {:.4g} (code {}), as onnxruntime's QDQ "
                                       "form does; exact before a MaxPool, a clipped value anywhere else",
                                       l.name, l.pad->value, low, high, double(q.scale) * (l.fill - q.zero_point), l.fill));
  }
  for (const auto& u : r.model.unmapped)
    report.notes.push_back(is_excluded(u) ? "float: node '" + u.node + "' (" + u.op_type + ") " + u.reason
                                          : "on the host: node '" + u.node + "' (" + u.op_type + "): " + u.reason);
  for (const auto& f : r.model.float_tail)
    report.notes.push_back("float, after the engine's output: node '" + f + "' (apply it to the engine's float output)");
  return report;
}

// The generated engine (with its golden vectors) and, when asked, the onnxruntime export. All or
// nothing: the export is written to a temporary file beside its destination first, then the
// generated files (emit() is all or nothing itself), and only then is the export moved into
// place; a failure on the way removes what this run wrote.
// A file of text written with the rest, all or nothing (--report-html, the --budget node config).
struct TextOutput {
  const char* option;
  std::filesystem::path file;
  std::string text;
};

std::vector<std::filesystem::path> write_outputs(const GenerateOptions& o, const ir::Graph& graph, const LoweredModel& model,
                                                 const Report& report, std::vector<GoldenVector> golden,
                                                 const std::vector<TextOutput>& texts) {
  // The exports (--qdq, --qoperator, --tflite): each written to a temporary file beside its destination first.
  struct Export {
    const char* option;
    std::filesystem::path file, tmp;
  };
  std::vector<Export> exports;
  const auto remove_temporaries = [&] {
    std::error_code ec;
    for (const Export& e : exports) std::filesystem::remove(e.tmp, ec);
  };
  const auto prepare = [&](const char* option, const std::filesystem::path& file, auto&& write) {
    if (file.empty()) return;
    std::filesystem::path tmp = file;
    tmp += ".statiq-tmp-" + std::to_string(::getpid());
    exports.push_back({option, file, tmp});
    try {
      write(tmp);
    } catch (...) {
      remove_temporaries();
      throw;
    }
  };
  prepare("--qdq", o.qdq, [&](const std::filesystem::path& tmp) {
    if (model.dynamic) write_dynamic_model(model, tmp);
    else write_qdq_model(model, tmp, &graph);  // a drop-in replacement for the float model
  });
  prepare("--qoperator", o.qoperator, [&](const std::filesystem::path& tmp) { write_qoperator_model(model, tmp); });
  prepare("--tflite", o.tflite, [&](const std::filesystem::path& tmp) { write_tflite_model(model, tmp); });
  std::vector<std::filesystem::path> written;
  try {
    if (!o.output_dir.empty()) {
      EmitOptions emit_options;
      emit_options.golden = std::move(golden);
      emit_options.model_file = o.model.string();
      emit_options.model_sha256 = sha256_of(o.model);
      emit_options.report = report;
      emit_options.board = o.board;
      emit_options.weights_encoding = o.weights_encoding;
      written = emit(model, emit_options, o.output_dir);
    }
    // After emit, which makes the output folder the node config goes into.
    for (const TextOutput& t : texts)
      prepare(t.option, t.file, [&](const std::filesystem::path& tmp) {
        std::ofstream out(tmp, std::ios::binary);
        out << t.text;
        if (!out.flush()) throw std::runtime_error(std::string(t.option) + ": cannot write '" + printable(tmp.string()) + "'");
      });
    for (const Export& e : exports) {
      std::error_code ec;
      std::filesystem::rename(e.tmp, e.file, ec);
      if (ec)
        throw std::runtime_error(std::string(e.option) + ": cannot move '" + printable(e.tmp.string()) + "' to '" +
                                 printable(e.file.string()) + "': " + ec.message());
      written.push_back(e.file);
    }
  } catch (...) {
    std::error_code ec;
    remove_temporaries();
    for (const auto& f : written) std::filesystem::remove(f, ec);
    throw;
  }
  return written;
}

}  // namespace

GenerateResult generate(const GenerateOptions& o) {
  // Everything the user typed is checked before the model is read and calibrated.
  if (!o.name.empty() && cpp_identifier(o.name) != o.name)
    throw std::runtime_error("--name '" + display_name(o.name) + "' is not a C++ namespace name of lower-case letters, "
                             "digits and single underscores (at most " + std::to_string(max_identifier_chars) +
                             " characters); use e.g. '" + cpp_identifier(o.name) + "'");
  if (!o.board.empty() && std::find(std::begin(boards::board_names), std::end(boards::board_names), o.board) ==
                             std::end(boards::board_names)) {
    std::string known;
    for (const std::string_view b : boards::board_names) known += (known.empty() ? "" : ", ") + std::string(b);
    throw std::runtime_error("--board '" + display_name(o.board) + "' is not a board of statiq/targets/boards.hpp; "
                             "choose " + known + " (or drop --board)");
  }
  if (!o.output_dir.empty()) check_output_dir(o.output_dir);
  if (!o.report_html.empty())
    check_output_dir(o.report_html.has_parent_path() ? o.report_html.parent_path() : std::filesystem::path("."));
  if (!o.qdq.empty()) {
    if (find_target(o.target).name != "cpu_int8")
      throw std::runtime_error("--qdq writes onnxruntime's QDQ form, which only the cpu-int8 target computes (not " +
                               o.target + "); drop --qdq or use --target cpu-int8");
    check_output_dir(o.qdq.has_parent_path() ? o.qdq.parent_path() : std::filesystem::path("."));
  }
  if (!o.qoperator.empty()) {
    if (find_target(o.target).name != "cpu_int8")
      throw std::runtime_error("--qoperator writes onnxruntime's QOperator form, which only the cpu-int8 target "
                               "computes (not " + o.target + "); drop --qoperator or use --target cpu-int8");
    if (o.dynamic)
      throw std::runtime_error("--qoperator with --dynamic: the QOperator export is of static quantization; use --qdq");
    check_output_dir(o.qoperator.has_parent_path() ? o.qoperator.parent_path() : std::filesystem::path("."));
  }
  if (!o.tflite.empty()) {
    if (!find_target(o.target).tflite_form)
      throw std::runtime_error("--tflite writes a TensorFlow Lite int8 model, whose arithmetic only the " +
                               tflite_target_names() + " targets compute (not " + o.target +
                               "); drop --tflite or use --target tflite-int8");
    if (o.dynamic) throw std::runtime_error("--tflite with --dynamic: the TFLite export is of static int8 quantization");
    check_output_dir(o.tflite.has_parent_path() ? o.tflite.parent_path() : std::filesystem::path("."));
  }
  ir::Graph graph = load_onnx(o.model);
  GenerateResult r;
  r.normalize_actions = normalize::normalize(graph).actions;
  const TargetInfo& target = find_target(o.target);

  // Legalization rewrites the graph to fit the target, checked in float on the calibration samples.
  const ir::Graph loaded = o.legalize ? inputs_of(graph) : ir::Graph{};
  SampleReader samples(o.legalize ? loaded : graph);
  std::optional<calib::CalibrationSet> calibration;
  if (o.legalize) {
    calibration = samples.read(o.calib, o.read);
    std::vector<exec::Array> xs;
    for (const calib::Sample& s : calibration->samples) xs.push_back(s.inputs.begin()->second);
    r.legalization = legalize::legalize(graph, target, xs, *o.legalize);
    samples.legalised(*r.legalization, *calibration);
  }

  // Cross-layer equalization rescales the float graph (exactly) before it is calibrated and lowered.
  std::vector<std::string> equalized;
  if (o.ptq.cross_layer_equalization)
    for (const ptq::EqualizedPair& p : ptq::equalize_cross_layer(graph))
      equalized.push_back(fmt::format("cross-layer equalization: '{}' -> '{}', {} channels rescaled, largest weight "
                                      "range ratio {:.3g} -> {:.3g}",
                                      display_name(p.first), display_name(p.second), p.channels, p.max_ratio_before,
                                      p.max_ratio_after));

  // Pattern matching onto the target's layers.
  LowerOptions lo;
  QuantizeOptions qo;
  configure(o, target, graph, r.legalization, lo, qo);
  if (o.dynamic && o.ptq.any())
    throw std::runtime_error("--dynamic with a post-training method (--weight-scale-search, --bias-correction, "
                             "--adaround, --activation-range-search, --cross-layer-equalization): they refine static "
                             "quantization; drop --dynamic or the method");
  if (o.dynamic && !target.dynamic_quantization)
    throw std::runtime_error("--dynamic is onnxruntime's dynamic quantization, a CPU scheme: use --target cpu-int8 "
                             "(not " + o.target + ")");
  r.model = lower(graph, target, lo);

  if (!calibration) calibration = samples.read(o.calib, o.read);
  // The evaluation samples (the float executor against the integer simulation below; the first are the
  // golden vectors), read before quantization: --budget measures its choices on them.
  calib::ReadOptions eval_read = o.read;
  eval_read.max_samples = o.max_eval;
  const calib::CalibrationSet eval = o.eval.empty() ? *calibration : samples.read(o.eval, eval_read);
  const std::size_t n = o.max_eval ? std::min(o.max_eval, eval.size()) : eval.size();
  std::vector<std::int64_t> labels;
  if (!o.labels.empty()) {
    const std::string who = "--labels '" + printable(o.labels.string()) + "'";
    check_input_file(o.labels, "--labels file");
    try {
      labels = io::read_npy(o.labels).as<std::int64_t>();
    } catch (const std::exception& e) {
      throw std::runtime_error(who + ": " + e.what() + "; labels are an int64 .npy of class indices, one per sample "
                               "(np.save(f, y.astype(np.int64)))");
    }
    if (labels.size() < n)
      throw std::runtime_error(who + ": " + std::to_string(labels.size()) + " labels for " + std::to_string(n) +
                               " evaluation samples; give one label per sample or lower --eval-samples");
    // a label is a class index of the model's output
    const ir::Tensor& out = graph.tensor(graph.outputs.at(0));
    if (out.has_static_shape()) {
      const std::int64_t classes = ir::element_count(*out.shape);
      for (std::size_t s = 0; s < n; ++s)
        if (labels[s] < 0 || labels[s] >= classes)
          throw std::runtime_error(who + ": label " + std::to_string(s) + " is " + std::to_string(labels[s]) +
                                   ", outside the model's " + std::to_string(classes) + " classes [0, " +
                                   std::to_string(classes) + "); check that the labels match the samples");
    }
  }
  // The run's calibration and quantization of a lowered model with the methods `p` (MSE ranges
  // depend on the bits): how --budget measures each configuration and --report-html each method.
  const auto quantize_as_run = [&](LoweredModel& m, const ptq::PtqOptions& p) {
    calib::CalibrationOptions co = o.calibration;
    if (co.method == calib::CalibrationMethod::mse) ptq::set_mse_grids(m, co);
    Ranges rg = calib::calibrate(graph, *calibration, co);
    if (p.any()) ptq::quantize_with_ptq(m, graph, *calibration, rg, qo, p);
    else quantize(m, rg, qo);
  };
  if (o.budget) {
    if (o.dynamic) throw std::runtime_error("--budget with --dynamic: the bits of dynamic quantization are fixed at 8; drop one");
    const ptq::LowerWith lower_with = [&](const std::map<std::string, BitsOverride>& bits) {
      LowerOptions l = lo;
      l.node_bits = bits;
      return lower(graph, target, l);
    };
    ptq::PtqOptions quiet = o.ptq;
    quiet.progress = calib::ProgressBar::Mode::never;
    const ptq::QuantizeModel quantize_model = [&](LoweredModel& m) { quantize_as_run(m, quiet); };
    const ptq::BudgetInputs inputs{graph, eval, o.budget_samples, labels, target.packs_sub_byte, lo.node_bits,
                                   o.budget_activations};
    r.mixed_precision = ptq::choose_bits(inputs, *o.budget, lower_with, quantize_model);
    NodeConfig chosen = o.node_config.empty() ? NodeConfig{} : read_node_config(o.node_config);
    for (const auto& [node, bits] : r.mixed_precision->chosen_bits()) lo.node_bits[node].w = chosen.bits[node].w = bits;
    for (const auto& [node, bits] : r.mixed_precision->chosen_output_bits())
      lo.node_bits[node].out = chosen.bits[node].out = bits;
    r.model = lower(graph, target, lo);
    r.node_config_written = node_config_json(chosen);
  }
  // Calibration (every tensor's range through the float executor) and quantization. Dynamic
  // quantization has no activation ranges: its samples only measure accuracy.
  calib::CalibrationOptions calibration_options = o.calibration;
  if (calibration_options.method == calib::CalibrationMethod::mse) ptq::set_mse_grids(r.model, calibration_options);
  Ranges ranges = o.dynamic ? Ranges{} : calib::calibrate(graph, *calibration, calibration_options);
  std::vector<std::string> dynamic_notes;
  ptq::PtqNotes ptq_notes;  // per layer, what each post-training method changed
  if (o.dynamic) dynamic_notes = quantize_dynamic(r.model, qo);
  else if (o.ptq.any()) ptq_notes = ptq::quantize_with_ptq(r.model, graph, *calibration, ranges, qo, o.ptq);
  else quantize(r.model, ranges, qo);

  release_freed_memory();
  Evaluation e = evaluate(graph, r.model, eval, n, labels, o.golden);
  release_freed_memory();
  r.eval_samples = e.quality.samples;
  r.top1_agreement = e.quality.top1_agreement;
  r.mean_cosine = e.quality.mean_cosine;
  r.accuracy = e.accuracy;

  r.report = report_of(r, ranges, e, dynamic_notes);
  for (const auto& [k, lines] : ptq_notes) r.report.layers.at(k).ptq = lines;
  for (const std::string& e : equalized) r.report.notes.push_back(e);
  if (r.mixed_precision) {
    r.report.mixed_precision_text = r.mixed_precision->text();
    r.report.mixed_precision_json = r.mixed_precision->json();
  }
  std::vector<TextOutput> texts;
  if (!o.report_html.empty()) {
    std::vector<MethodSqnr> methods;
    if (o.ptq.any()) {
      // The same model quantized without the methods, then with each alone.
      for (const auto& [name, p] : ptq::each_method_alone(o.ptq)) {
        LoweredModel m = lower(graph, target, lo);
        quantize_as_run(m, p);
        methods.push_back({name, layer_sqnr_on(m, graph, eval, 8)});
      }
      MethodSqnr all{"all (generated)", {}};
      for (const LayerReport& l : r.report.layers) all.sqnr_db.push_back(l.sqnr_db);
      methods.push_back(std::move(all));
    }
    const HtmlReportInputs inputs{r.model, graph, r.report, *calibration, std::move(methods),
                                  r.mixed_precision ? &*r.mixed_precision : nullptr, target.packs_sub_byte};
    texts.push_back({"--report-html", o.report_html, report_html(inputs)});
  }
  if (r.mixed_precision && !o.output_dir.empty())  // the choice, as a file --node-config reads back
    texts.push_back({"--budget", o.output_dir / (r.model.name + "_node_config.json"), r.node_config_written});
  r.written = write_outputs(o, graph, r.model, r.report, std::move(e.golden), texts);
  r.graph = std::move(graph);
  return r;
}

std::string summary_text(const GenerateResult& r) {
  std::string s = fmt::format("model '{}' for {}: {} layers\n", r.model.name, r.model.target, r.model.layers.size());
  s += fmt::format("{:<34} {:<20} {:>12} {:>8} {:>6} {:>9}\n", "layer", "kind", "output", "bits", "where", "SQNR dB");
  for (std::size_t i = 0; i < r.model.layers.size(); ++i) {
    const Layer& l = r.model.layers[i];
    const OutputType t = output_type(l);
    std::string sq = "";
    if (i < r.report.layers.size() && r.report.layers[i].sqnr_db) sq = fmt::format("{:.1f}", *r.report.layers[i].sqnr_db);
    s += fmt::format("{:<34} {:<20} {:>12} {:>8} {:>6} {:>9}\n", display_name(l.name).substr(0, 34),
                     (l.dynamic ? "Dynamic" : "") + std::string(layer_kind_name(l.kind)),
                     fmt::format("{}x{}x{}", t.shape.h, t.shape.w, t.shape.c),
                     l.kind == LayerKind::dequantize || l.dynamic ? std::string("float")
                                                                  : fmt::format("{}{}", t.is_signed ? "int" : "uint", t.bits),
                     l.placement == Placement::host ? "host" : "device", sq);
  }
  if (r.legalization) s += "legalization for " + r.model.target + ":\n" + r.legalization->to_text();
  for (const auto& u : r.model.unmapped)
    s += is_excluded(u) ? fmt::format("float (excluded): '{}' ({})\n", display_name(u.node), display_name(u.op_type))
                        : fmt::format("on the host: '{}' ({}): {}\n", display_name(u.node), display_name(u.op_type),
                                      printable(u.reason));
  for (const auto& f : r.model.float_tail) s += fmt::format("float after the engine: '{}'\n", display_name(f));
  if (r.report.quality) s += quality_text(*r.report.quality);
  if (r.mixed_precision) s += r.mixed_precision->text();
  if (r.accuracy)
    s += fmt::format("accuracy: float {:.2f}%, quantized {:.2f}% ({} samples)\n", 100 * r.accuracy->float_model,
                     100 * r.accuracy->quantized_model, r.accuracy->samples);
  return s;
}

}  // namespace statiq::codegen
