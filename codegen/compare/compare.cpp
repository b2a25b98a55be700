// codegen/compare/compare.cpp — see compare.hpp.
#include "codegen/compare/compare.hpp"

#include "codegen/legalize/legalize.hpp"

#include <bit>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <fmt/format.h>

#include "codegen/exec/float_executor.hpp"
#include "codegen/export/dynamic_export.hpp"
#include "codegen/export/qdq_export.hpp"
#include "codegen/export/tflite_export.hpp"
#include "codegen/input/input_file.hpp"
#include "codegen/legalize/legalize.hpp"
#include "codegen/normalize/normalize.hpp"
#include "codegen/onnx/load_onnx.hpp"
#include "statiq/io/npy.hpp"

namespace statiq::codegen {
namespace {

namespace fs = std::filesystem;

// A private folder for the QDQ model and onnxruntime's outputs, removed however we leave.
struct ScratchDir {
  fs::path path;
  ScratchDir() {
    static std::atomic<int> counter{0};
    path = fs::temp_directory_path() /
           fmt::format("statiq_compare_{}_{}", static_cast<long>(::getpid()), counter.fetch_add(1));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
};

std::string shell_quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Exit status of a shell command, -1 when it did not exit normally.
int run_shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// tools/ort/run.js of the source tree this file was compiled from (CMake passes absolute paths).
fs::path default_run_js() {
  return (fs::path(__FILE__).parent_path() / ".." / ".." / "tools" / "ort" / "run.js").lexically_normal();
}

// run.js writes DIR/<name>.npy with characters other than [A-Za-z0-9_.-] replaced by '_'.
std::string ort_file_name(const std::string& tensor) {
  std::string f = tensor;
  for (char& c : f)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') c = '_';
  return f + ".npy";
}

// Row 0 of onnxruntime's [1, C, H, W] (or [1, units]) values in NHWC order.
template <class T>
std::vector<T> to_nhwc(const std::vector<T>& nchw, Shape s) {
  std::vector<T> out(nchw.size());
  for (int c = 0; c < s.c; ++c)
    for (int h = 0; h < s.h; ++h)
      for (int w = 0; w < s.w; ++w)
        out[(std::size_t(h) * s.w + w) * s.c + c] = nchw[(std::size_t(c) * s.h + h) * s.w + w];
  return out;
}

double max_abs_diff(std::span<const float> a, std::span<const float> b) {
  double m = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, std::abs(double(a[i]) - double(b[i])));
  return m;
}

std::string tensor_of(const LoweredModel& model, const Layer& l) {
  return l.kind == LayerKind::quantize ? model.input_tensor : l.output_tensor;
}

// A layer's output as real values: a dynamic layer's floats, else its integers dequantized.
std::vector<float> real_values(const Layer& l, const SimulationResult& sim, std::size_t i) {
  if (i < sim.float_layers.size() && !sim.float_layers[i].empty()) return sim.float_layers[i];
  return dequantize(l.output, sim.layers[i]);
}

void mark_first(Comparison& c) {
  for (std::size_t k = 0; k < c.layers.size(); ++k)
    if (c.layers[k].differs) {
      c.first_difference = k;
      return;
    }
}

}  // namespace

CompareAgainst parse_compare_against(const std::string& name) {
  if (name == "onnxruntime" || name == "ort") return CompareAgainst::onnxruntime;
  if (name == "float") return CompareAgainst::float_model;
  if (name == "tflite") return CompareAgainst::tflite;
  if (name == "tflite-xnnpack") return CompareAgainst::tflite_xnnpack;
  throw std::runtime_error("--against " + name + ": choose onnxruntime, tflite, tflite-xnnpack or float");
}

Comparison compare_with_float(const LoweredModel& model, const ir::Graph& graph, const float* input, double min_sqnr_db) {
  if (graph.inputs.size() != 1)
    throw std::runtime_error("compare: the model has " + std::to_string(graph.inputs.size()) + " inputs; one is supported");
  const ir::Tensor& in = graph.tensor(graph.inputs[0]);
  if (!in.has_static_shape()) throw std::runtime_error("compare: graph input '" + in.name + "' has no static shape");
  const auto size = static_cast<std::size_t>(ir::element_count(*in.shape));
  const exec::FloatExecutor executor(graph);
  exec::RunOptions run_options;
  run_options.record_intermediates = true;
  const exec::Array x = exec::Array::floats(*in.shape, std::vector<float>(input, input + size));
  const exec::RunResult fr = executor.run({x}, run_options);
  const SimulationResult sim = simulate(model, input);

  Comparison c;
  c.against = CompareAgainst::float_model;
  c.model = model.name;
  c.target = model.target;
  c.min_sqnr_db = min_sqnr_db;
  for (std::size_t i = 0; i < model.layers.size(); ++i) {
    const Layer& l = model.layers[i];
    if (l.kind == LayerKind::dequantize) continue;
    const std::string name = tensor_of(model, l);
    const auto it = fr.tensors.find(name);
    const exec::Array& a = it != fr.tensors.end() ? it->second : x;
    if (it == fr.tensors.end() && name != in.name) continue;  // no float counterpart (not expected)
    const Shape s = sim.shapes[i];
    if (!a.is_float() || a.size() != s.size())
      throw std::runtime_error(fmt::format("compare: layer '{}': the float tensor '{}' has {} values, the layer {}",
                                           l.name, name, a.size(), s.size()));
    // A 4-D float tensor is NCHW; anything else (a Gemm's [1, N]) is already in NHWC order.
    const std::vector<float> ref = a.rank() == 4 ? nchw_to_nhwc(a.f.data(), s) : a.f;
    const std::vector<float> got = real_values(l, sim, i);
    LayerComparison lc;
    lc.layer = i;
    lc.name = l.name;
    lc.tensor = name;
    lc.shape = s;
    lc.elements = got.size();
    lc.max_abs_diff = max_abs_diff(ref, got);
    lc.sqnr_db = sqnr_db(ref, got);
    lc.differs = !(lc.sqnr_db >= min_sqnr_db);
    c.layers.push_back(lc);
  }
  mark_first(c);
  return c;
}

namespace {

// onnxruntime on `exported`'s export (QDQ, or the dynamic form for a dynamic model), one input:
// every layer's output tensor in statiq's NHWC order, as T (empty for a Dequantize layer).
template <class T>
std::vector<std::vector<T>> run_onnxruntime(const LoweredModel& exported, const float* input, const OrtRunner& runner) {
  const fs::path run_js = runner.run_js.empty() ? default_run_js() : runner.run_js;
  const std::string setup = "install it with scripts/setup.sh (cd tools/ort && npm ci --ignore-scripts)";
  if (!fs::is_regular_file(run_js))
    throw std::runtime_error("--against onnxruntime: the onnxruntime runner '" + run_js.string() + "' does not exist");
  if (!fs::is_directory(run_js.parent_path() / "node_modules" / "onnxruntime-node"))
    throw std::runtime_error("--against onnxruntime: onnxruntime-node is not installed next to '" + run_js.string() +
                             "': " + setup);
  if (run_shell(shell_quoted(runner.node) + " --version > /dev/null 2>&1") != 0)
    throw std::runtime_error("--against onnxruntime: node ('" + runner.node +
                             "') cannot be run: install Node.js, or use --against float");

  ScratchDir dir;
  const fs::path file = dir.path / "exported.onnx";
  const bool dynamic = exported.dynamic;
  try {
    if (dynamic) write_dynamic_model(exported, file);
    else write_qdq_model(exported, file);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("--against onnxruntime needs the model's onnxruntime export (cpu-int8 target): ") +
                             e.what());
  }
  auto tensor_name = [&](std::size_t i) { return dynamic ? dynamic_tensor_name(exported, i) : qdq_tensor_name(exported, i); };
  const Shape in = exported.input_shape;
  const fs::path x = dir.path / "x.npy";
  statiq::io::write_npy<float>(x, {1, std::size_t(in.c), std::size_t(in.h), std::size_t(in.w)},
                               std::span<const float>(input, std::size_t(in.size())));
  std::string names;
  for (std::size_t i = 0; i < exported.layers.size(); ++i) {
    const std::string n = tensor_name(i);
    if (!n.empty()) names += (names.empty() ? "" : ",") + n;
  }
  const fs::path out = dir.path / "layers";
  fs::create_directories(out);
  const fs::path log = dir.path / "ort.log";
  const std::string cmd = fmt::format("{} {} {} --input {} --outputs {} --out-dir {} > {} 2>&1", shell_quoted(runner.node),
                                      shell_quoted(run_js.string()), shell_quoted(file.string()), shell_quoted(x.string()), shell_quoted(names),
                                      shell_quoted(out.string()), shell_quoted(log.string()));
  if (run_shell(cmd) != 0) throw std::runtime_error("onnxruntime failed on the exported model:\n" + slurp(log));

  std::vector<std::vector<T>> layers(exported.layers.size());
  for (std::size_t i = 0; i < exported.layers.size(); ++i) {
    const std::string n = tensor_name(i);
    if (n.empty()) continue;
    const Shape s = output_type(exported.layers[i].attributes).shape;
    const std::vector<T> v = statiq::io::read_npy(out / ort_file_name(n)).as<T>();
    if (v.size() != std::size_t(s.size()))
      throw std::runtime_error(fmt::format("onnxruntime's '{}' has {} values, layer '{}' {}", n, v.size(),
                                           exported.layers[i].name, s.size()));
    layers[i] = to_nhwc(v, s);
  }
  return layers;
}

}  // namespace

std::vector<std::vector<std::int32_t>> onnxruntime_layers(const LoweredModel& exported, const float* input,
                                                          const OrtRunner& runner) {
  if (exported.dynamic)
    throw std::runtime_error("onnxruntime_layers: a dynamic model's layers are float (onnxruntime_float_layers)");
  return run_onnxruntime<std::int32_t>(exported, input, runner);
}

std::vector<std::vector<float>> onnxruntime_float_layers(const LoweredModel& exported, const float* input,
                                                         const OrtRunner& runner) {
  if (!exported.dynamic) throw std::runtime_error("onnxruntime_float_layers: the model is not dynamic (onnxruntime_layers)");
  return run_onnxruntime<float>(exported, input, runner);
}

Comparison compare_with_onnxruntime(const LoweredModel& model, const float* input, const OrtRunner& runner,
                                    const LoweredModel* exported) {
  const LoweredModel& other = exported ? *exported : model;
  if (other.layers.size() != model.layers.size())
    throw std::runtime_error(fmt::format("compare: the exported model has {} layers, the engine {}", other.layers.size(),
                                         model.layers.size()));
  if (model.dynamic != other.dynamic)
    throw std::runtime_error("compare: the engine and the exported model differ in dynamic quantization");
  const SimulationResult sim = simulate(model, input);
  std::vector<std::vector<std::int32_t>> ort_integers;
  std::vector<std::vector<float>> ort_floats;
  if (model.dynamic) ort_floats = onnxruntime_float_layers(other, input, runner);
  else ort_integers = onnxruntime_layers(other, input, runner);
  Comparison c;
  c.against = CompareAgainst::onnxruntime;
  c.model = model.name;
  c.target = model.target;
  c.dynamic = model.dynamic;
  for (std::size_t i = 0; i < model.layers.size(); ++i) {
    const Layer& l = model.layers[i];
    if (l.kind == LayerKind::dequantize || (!model.dynamic && qdq_tensor_name(other, i).empty())) continue;
    // A static layer compares integers (onnxruntime's mean what the exported model's quantization
    // says they mean); a dynamic one compares floats bit for bit.
    std::vector<float> ref, got;
    std::size_t bad = 0;
    if (model.dynamic) {
      ref = ort_floats[i];
      got = sim.float_layers[i];
      if (ref.size() == got.size())
        for (std::size_t k = 0; k < got.size(); ++k) bad += std::bit_cast<std::uint32_t>(ref[k]) != std::bit_cast<std::uint32_t>(got[k]);
    } else {
      const std::vector<std::int32_t>& theirs = ort_integers[i];
      const std::vector<std::int32_t>& ours = sim.layers[i];
      if (theirs.size() == ours.size())
        for (std::size_t k = 0; k < ours.size(); ++k) bad += ours[k] != theirs[k];
      ref = dequantize(other.layers[i].output, theirs);
      got = dequantize(l.output, ours);
    }
    if (ref.size() != got.size())
      throw std::runtime_error(fmt::format("compare: layer '{}' has {} values, onnxruntime's {}", l.name, got.size(),
                                           ref.size()));
    LayerComparison lc;
    lc.layer = i;
    lc.name = l.name;
    lc.tensor = tensor_of(model, l);
    lc.shape = sim.shapes[i];
    lc.elements = got.size();
    lc.mismatches = bad;
    lc.max_abs_diff = max_abs_diff(ref, got);
    lc.sqnr_db = sqnr_db(ref, got);
    // Different scales with equal integers are a difference too (a perturbed quantization).
    lc.differs = bad != 0 || lc.max_abs_diff != 0;
    c.layers.push_back(lc);
  }
  mark_first(c);
  return c;
}

Comparison compare_with_tflite(const LoweredModel& model, const float* input, bool xnnpack, const TfliteRunner& runner) {
  const std::string option = xnnpack ? "--against tflite-xnnpack" : "--against tflite";
  fs::path exe = runner.run_tflite;
#ifdef STATIQ_RUN_TFLITE
  if (exe.empty()) exe = STATIQ_RUN_TFLITE;
#endif
  if (exe.empty())
    throw std::runtime_error(option + ": this build has no TFLite oracle (tools/tflite/run_tflite is built when "
                             "scripts/setup.sh installed tfjs-tflite-node into tools/tflite); install it and "
                             "reconfigure, or give --run-tflite");
  if (!fs::is_regular_file(exe))
    throw std::runtime_error(option + ": the TFLite runner '" + exe.string() +
                             "' does not exist: build it (cmake --build <build> --target statiq_run_tflite) or give "
                             "--run-tflite");
  ScratchDir dir;
  const fs::path file = dir.path / "exported.tflite";
  try {
    write_tflite_model(model, file, {.every_layer_output = true});
  } catch (const std::exception& e) {
    throw std::runtime_error(option + " needs the model's TFLite export (tflite-int8 targets): " + e.what());
  }
  const Shape in = model.input_shape;
  const fs::path x = dir.path / "x.npy";
  statiq::io::write_npy<float>(x, {1, std::size_t(in.c), std::size_t(in.h), std::size_t(in.w)},
                               std::span<const float>(input, std::size_t(in.size())));
  const fs::path out = dir.path / "layers", log = dir.path / "tflite.log";
  const std::string cmd = fmt::format("{} {} --input {} --nchw --out-dir {}{} > {} 2>&1", shell_quoted(exe.string()),
                                      shell_quoted(file.string()), shell_quoted(x.string()), shell_quoted(out.string()),
                                      xnnpack ? " --xnnpack" : "", shell_quoted(log.string()));
  if (run_shell(cmd) != 0) throw std::runtime_error("TFLite failed on the exported model:\n" + slurp(log));

  const SimulationResult sim = simulate(model, input);
  std::vector<std::vector<std::int32_t>> theirs(model.layers.size());
  for (std::size_t i = 0; i < model.layers.size(); ++i) {
    const std::string n = tflite_tensor_name(model, i);
    if (n.empty()) continue;
    theirs[i] = statiq::io::read_npy(out / ort_file_name(n)).as<std::int32_t>();  // run_tflite names files as run.js
    if (theirs[i].size() != sim.layers[i].size())
      throw std::runtime_error(fmt::format("TFLite's '{}' has {} values, layer '{}' {}", n, theirs[i].size(),
                                           model.layers[i].name, sim.layers[i].size()));
  }
  Comparison c;
  c.against = xnnpack ? CompareAgainst::tflite_xnnpack : CompareAgainst::tflite;
  c.model = model.name;
  c.target = model.target;
  for (std::size_t i = 0; i < model.layers.size(); ++i) {
    const Layer& l = model.layers[i];
    if (theirs[i].empty()) continue;
    const std::vector<std::int32_t>& ours = sim.layers[i];
    std::size_t bad = 0, local = 0;
    for (std::size_t k = 0; k < ours.size(); ++k) bad += ours[k] != theirs[i][k];
    const std::vector<std::int32_t> alone = simulate_layer(model, i, theirs, input);
    for (std::size_t k = 0; k < alone.size(); ++k) local += alone[k] != theirs[i][k];
    LayerComparison lc;
    lc.layer = i;
    lc.name = l.name;
    lc.tensor = tensor_of(model, l);
    lc.shape = sim.shapes[i];
    lc.elements = ours.size();
    lc.mismatches = bad;
    lc.local_mismatches = local;
    const std::vector<float> ref = dequantize(l.output, theirs[i]), got = dequantize(l.output, ours);
    lc.max_abs_diff = max_abs_diff(ref, got);
    lc.sqnr_db = sqnr_db(ref, got);
    lc.differs = bad != 0;
    c.layers.push_back(lc);
  }
  mark_first(c);
  return c;
}

Comparison compare(const CompareOptions& o) {
  GenerateOptions g = o.generate;
  g.output_dir.clear();
  g.qdq.clear();
  g.tflite.clear();
  g.qoperator.clear();
  g.max_eval = 1;  // generate()'s evaluation is not what is wanted here: keep it to one sample
  g.golden = 0;
  const GenerateResult r = generate(g);

  // A row of the input as the model takes it (before legalization's pre-padding and pixel map).
  const ir::Graph loaded = load_onnx(g.model);
  const ir::Tensor& in = loaded.tensor(loaded.inputs.at(0));
  if (!in.has_static_shape()) throw std::runtime_error("the model's input has no static shape");
  const std::size_t per_row = std::size_t(ir::element_count(*in.shape));
  check_input_file(o.input, "--input file");  // a regular file within --max-input-bytes
  const statiq::io::NpyArray samples = statiq::io::read_npy(o.input);
  const std::vector<float> data = samples.as<float>();
  if (per_row == 0 || data.empty() || data.size() % per_row)
    throw std::runtime_error(fmt::format("input '{}' holds {} values, not a multiple of the model input {}",
                                         o.input.string(), data.size(), ir::to_string(*in.shape)));
  const std::size_t rows = data.size() / per_row;
  if (o.row >= rows) throw std::runtime_error(fmt::format("--row {} is outside [0, {})", o.row, rows));
  exec::Array x = exec::Array::floats(*in.shape, std::vector<float>(data.begin() + std::ptrdiff_t(o.row * per_row),
                                                                     data.begin() + std::ptrdiff_t((o.row + 1) * per_row)));
  if (r.legalization) x = legalize::legalized_input(x, *r.legalization);
  if (x.f.size() != std::size_t(r.model.input_shape.size()))
    throw std::logic_error("compare: the legalised input does not have the engine's input size");
  // The float graph the layers' tensor names refer to: the one generate() lowered (legalised).
  switch (o.against) {
    case CompareAgainst::onnxruntime: return compare_with_onnxruntime(r.model, x.f.data(), o.runner);
    case CompareAgainst::tflite: return compare_with_tflite(r.model, x.f.data(), false, o.tflite_runner);
    case CompareAgainst::tflite_xnnpack: return compare_with_tflite(r.model, x.f.data(), true, o.tflite_runner);
    default: return compare_with_float(r.model, r.graph, x.f.data(), o.min_sqnr_db);
  }
}

std::string comparison_text(const Comparison& c) {
  const bool tfl = c.against == CompareAgainst::tflite || c.against == CompareAgainst::tflite_xnnpack;
  const bool ort = c.against == CompareAgainst::onnxruntime || tfl;  // integers compared
  const char* runtime = c.against == CompareAgainst::onnxruntime ? "onnxruntime"
                        : c.against == CompareAgainst::tflite    ? "TFLite"
                                                                 : "TFLite with XNNPACK";
  std::string s = fmt::format("model '{}' ({}): the engine against {}\n", c.model, c.target,
                              c.against == CompareAgainst::onnxruntime ? "onnxruntime (its export of the model)"
                              : c.against == CompareAgainst::tflite    ? "TFLite 2.9, builtin kernels (its .tflite export)"
                              : tfl ? "TFLite 2.9 with the XNNPACK delegate (its .tflite export)"
                                    : "the float model");
  s += fmt::format("  {:>3} {:<28} {:<28} {:>12} {:>12} {:>11} {:>9}{}\n", "#", "layer", "tensor", "shape",
                   "max|diff|", "mismatches", "SQNR dB", tfl ? "  layer-local" : "");
  for (std::size_t k = 0; k < c.layers.size(); ++k) {
    const LayerComparison& l = c.layers[k];
    const std::string mism = l.mismatches ? std::to_string(*l.mismatches) : std::string("-");
    const std::string sq = std::isinf(l.sqnr_db) ? (l.sqnr_db > 0 ? "inf" : "-inf") : fmt::format("{:.2f}", l.sqnr_db);
    s += fmt::format("{} {:>3} {:<28} {:<28} {:>12} {:>12.6g} {:>11} {:>9}{}\n",
                     c.first_difference == k ? '>' : ' ', l.layer, l.name.substr(0, 28), l.tensor.substr(0, 28),
                     fmt::format("{}x{}x{}", l.shape.h, l.shape.w, l.shape.c), l.max_abs_diff, mism, sq,
                     l.local_mismatches ? fmt::format(" {:>12}", *l.local_mismatches) : std::string());
  }
  if (tfl) {
    std::string alone;
    for (const LayerComparison& l : c.layers)
      if (l.local_mismatches.value_or(0)) alone += fmt::format("{}{} '{}' ({})", alone.empty() ? "" : ", ", l.layer, l.name, *l.local_mismatches);
    s += alone.empty() ? "layer-local: every layer fed TFLite's own inputs gives TFLite's integers\n"
                       : "layer-local (fed TFLite's own inputs), these layers differ on their own: " + alone + "\n";
  }
  if (!c.first_difference) {
    s += ort ? fmt::format("every layer matches {} bit for bit\n", runtime)
             : fmt::format("every layer is within {:.1f} dB SQNR of the float model\n", c.min_sqnr_db);
  } else {
    const LayerComparison& l = c.layers[*c.first_difference];
    s += ort ? fmt::format("first difference: layer {} '{}' (tensor '{}'): {} of {} {} differ, max |diff| {:.6g}\n",
                           l.layer, l.name, l.tensor, l.mismatches.value_or(0), l.elements,
                           c.dynamic ? "floats" : "integers", l.max_abs_diff)
             : fmt::format("first layer under {:.1f} dB: layer {} '{}' (tensor '{}'): SQNR {:.2f} dB, max |diff| {:.6g}\n",
                           c.min_sqnr_db, l.layer, l.name, l.tensor, l.sqnr_db, l.max_abs_diff);
  }
  return s;
}

}  // namespace statiq::codegen
