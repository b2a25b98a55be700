// Small graphs built here, one per operator family of issue 12 that has no shared model, generated
// for cpu-int8: the engine's self-test is bit-exact, onnxruntime on the QDQ export gives every
// layer's integers and they equal the simulation's, and check gives every node the verdict generate
// reaches. On the other targets, check and generate agree too: a node check refuses makes generate
// fail naming it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "codegen/emit/layer_facts.hpp"
#include "codegen/exec/float_executor.hpp"
#include "codegen/generate/generate.hpp"
#include "codegen/legalize/legalize.hpp"
#include "codegen/normalize/normalize.hpp"
#include "codegen/onnx/load_onnx.hpp"
#include "codegen/simulate/simulate.hpp"
#include "statiq/io/npy.hpp"
#include "tests/codegen/onnx_builder.hpp"
#include "tests/ort/ort_layers.hpp"
#include "tests/ort/ort_oracle.hpp"
#include "tests/support/files.hpp"
#include "tests/support/selftest.hpp"

namespace fs = std::filesystem;
using namespace statiq::codegen;
using statiq::test::OnnxBuilder;
using statiq::test::uniform_values;
using statiq::test::ScratchDir;

namespace {


void conv(OnnxBuilder& b, const std::string& name, const std::string& x, int in, int out, int k, unsigned seed) {
  b.initializer(name + "_w", {out, in, k, k}, uniform_values(std::size_t(out * in * k * k), seed, -0.5f, 0.5f));
  b.initializer(name + "_b", {out}, uniform_values(std::size_t(out), seed + 100, -0.2f, 0.2f));
  auto& n = b.node("Conv", {x, name + "_w", name + "_b"}, {name}, name);
  if (k > 1) OnnxBuilder::attr(n, "pads", std::vector<std::int64_t>{k / 2, k / 2, k / 2, k / 2});
}

void save(const OnnxBuilder& b, const fs::path& file) {
  std::ofstream out(file, std::ios::binary);
  REQUIRE(b.model.SerializeToOstream(&out));
}

// Generates `model` for cpu-int8 on `samples` random inputs of `input_size` floats; the self-test
// and every layer against onnxruntime must be exact. Returns the lowered model.
LoweredModel generate_exact(const ScratchDir& dir, const fs::path& model, std::vector<std::size_t> input_dims,
                            std::size_t input_size) {
  const std::size_t samples = 8;
  const std::vector<float> xs = uniform_values(samples * input_size, 7u, -1.0f, 1.0f);
  input_dims.insert(input_dims.begin(), samples);
  statiq::io::write_npy<float>(dir.path / "x.npy", input_dims, std::span<const float>(xs));
  GenerateOptions o;
  o.model = model;
  o.calib = dir.path / "x.npy";
  o.target = "cpu-int8";
  o.output_dir = dir.path / "out";
  o.qdq = dir.path / "qdq.onnx";
  const GenerateResult r = generate(o);
  const LoweredModel& m = r.model;
  CHECK(m.unmapped.empty());
  const std::string self_test = statiq::test::compile_and_self_test(o.output_dir, m.name);
  INFO(self_test);
  CHECK(self_test.empty());
  std::size_t total = 0;
  const auto compared = statiq::test::ort_layer_mismatches(m, o.qdq, dir.path / "x.npy", xs, input_size, dir.path);
  CHECK(compared.size() + 1 >= m.layers.size());  // every layer but the final Dequantize's float
  for (const statiq::test::LayerMismatches& c : compared) {
    INFO("layer " << c.layer << " '" << m.layers[c.layer].name << "'");
    CHECK(c.count == 0);
    total += c.count;
  }
  CHECK(total == 0);
  return r.model;
}

// check and generate (--unmapped host, no --legalize) on `target`, calibrated on |x.npy|: a node check refuses makes
// generate fail naming one such node; otherwise generate succeeds, each node on the device exactly
// where check said it maps. Returns the nodes check refused.
std::vector<std::string> check_agrees(const ScratchDir& dir, const fs::path& model, const std::string& target) {
  ir::Graph g = load_onnx(model);
  normalize::normalize(g);
  const std::vector<legalize::NodeCompatibility> nodes = legalize::check_compatibility(g, find_target(target));
  std::vector<std::string> refused;
  for (const auto& c : nodes)
    if (c.refused) refused.push_back(c.node);
  // Non-negative samples (|x|): Akida's input layer reads pixels, and check does not read the data.
  const statiq::io::NpyArray x = statiq::io::read_npy(dir.path / "x.npy");
  std::vector<float> pixels = x.as<float>();
  for (float& v : pixels) v = std::abs(v);
  statiq::io::write_npy<float>(dir.path / "pixels.npy", x.shape, std::span<const float>(pixels));
  GenerateOptions o;
  o.model = model;
  o.calib = dir.path / "pixels.npy";
  o.target = target;
  o.golden = 0;
  o.max_eval = 1;
  o.policy = UnmappedPolicy::host;
  std::string error;
  GenerateResult r;
  try {
    r = generate(o);
  } catch (const std::exception& e) {
    error = e.what();
  }
  INFO(target << ": generate says: " << (error.empty() ? "ok" : error) << "\n"
              << legalize::compatibility_text(nodes, find_target(target)));
  if (!refused.empty()) {
    REQUIRE(!error.empty());
    bool named = false;
    for (const std::string& n : refused) named = named || error.find("'" + n + "'") != std::string::npos;
    CHECK(named);
    return refused;
  }
  REQUIRE(error.empty());
  std::string host_reasons;
  for (const auto& u : r.model.unmapped) host_reasons += u.node + " (" + u.op_type + "): " + u.reason + "\n";
  INFO("generate's host layers:\n" << host_reasons);
  std::map<std::string, bool> on_device;
  std::map<std::string, std::string> layer_of;
  for (const Layer& l : r.model.layers)
    for (const std::string& n : l.onnx_nodes) on_device[n] = l.placement == Placement::device, layer_of[n] = l.name;
  std::map<std::string, std::string> host_reason;  // layer -> why generate put it on the host
  for (const auto& u : r.model.unmapped) host_reason[u.node] = u.reason;
  for (const auto& c : nodes) {
    INFO("node " << c.node << " (" << c.op_type << "): check says " << (c.maps ? "device" : "host") << ", " << c.rule);
    const auto it = on_device.find(c.node);
    if (c.maps && it != on_device.end() && !it->second) {
      // Only what the calibration decides, which check does not read: Akida 1.0's threshold registers.
      const std::string& why = host_reason[layer_of[c.node]];
      INFO("generate: " << why);
      CHECK(why.find("registers") != std::string::npos);
    } else if (c.maps) {
      CHECK((it != on_device.end() && it->second));
    } else {
      CHECK((it == on_device.end() || !it->second));
    }
  }
  return refused;
}

}  // namespace

TEST_CASE("Max, Min, Sub of two tensors (same shape and per channel): cpu-int8 == onnxruntime on every layer; "
          "check agrees with generate on every target",
          "[ort][elementwise]") {
  const ScratchDir dir("statiq_ort_elementwise_graph");
  OnnxBuilder b;
  b.input("x", {1, 3, 8, 8}).output("y", {1, 2, 8, 8});
  conv(b, "conv_a", "x", 3, 4, 3, 1u);
  conv(b, "conv_b", "x", 3, 4, 3, 2u);
  b.node("Max", {"conv_a", "conv_b"}, {"max"}, "max");
  b.node("Min", {"conv_a", "conv_b"}, {"min"}, "min");
  b.node("Sub", {"max", "min"}, {"spread"}, "spread");  // >= 0: max - min
  b.node("GlobalAveragePool", {"conv_b"}, {"mean"}, "mean");
  b.node("Sub", {"conv_a", "mean"}, {"centred"}, "centred");  // a map minus one value per channel
  b.node("Max", {"mean", "centred"}, {"floor"}, "floor");     // per-channel operand first
  b.node("Min", {"spread", "floor"}, {"both"}, "both");
  conv(b, "y", "both", 4, 2, 1, 3u);
  save(b, dir.path / "m.onnx");

  const LoweredModel m = generate_exact(dir, dir.path / "m.onnx", {3, 8, 8}, 3 * 8 * 8);
  std::map<statiq::ElementwiseOp, int> ops;
  for (const Layer& l : m.layers)
    if (const auto* a = std::get_if<statiq::ElementwiseAttributes>(&l.attributes)) ops[a->op] += 1 + 10 * a->per_channel_second;
  CHECK(ops[statiq::ElementwiseOp::max] == 12);  // one same-shape (1), one per-channel (11)
  CHECK(ops[statiq::ElementwiseOp::min] == 2);
  CHECK(ops[statiq::ElementwiseOp::sub] == 12);

  CHECK(check_agrees(dir, dir.path / "m.onnx", "cpu-int8").empty());
  for (const char* target : {"tflite-int8", "gemmini", "akida-v2", "akida-v1"}) {
    INFO(target);
    const std::vector<std::string> refused = check_agrees(dir, dir.path / "m.onnx", target);
    WARN(target << ": check refuses " << refused.size() << " nodes");
  }
}

TEST_CASE("Pad before a Conv, AveragePool, ReduceMean over H,W, final Softmax: cpu-int8 == onnxruntime on every "
          "layer, the engine's Softmax within 4 ulp of onnxruntime's; check agrees with generate on every target",
          "[ort][pad][reduce_mean][softmax]") {
  const ScratchDir dir("statiq_ort_pad_mean_softmax");
  OnnxBuilder b;
  b.input("x", {1, 3, 12, 12}).output("probabilities", {1, 5});
  b.initializer_i64("pads", {8}, {0, 0, 1, 2, 0, 0, 2, 1});  // asymmetric: top 1, left 2, bottom 2, right 1
  b.node("Pad", {"x", "pads"}, {"padded"}, "pad");
  conv(b, "conv1", "padded", 3, 6, 3, 11u);  // pads 1 of its own, plus the Pad's: 15x15 -> 15x15
  b.node("Relu", {"conv1"}, {"relu1"}, "relu1");
  auto& pool = b.node("AveragePool", {"relu1"}, {"pool"}, "pool");  // 15x15 -> 7x7 (floor)
  OnnxBuilder::attr(pool, "kernel_shape", std::vector<std::int64_t>{2, 2});
  OnnxBuilder::attr(pool, "strides", std::vector<std::int64_t>{2, 2});
  conv(b, "conv2", "pool", 6, 8, 3, 12u);
  b.node("Relu", {"conv2"}, {"relu2"}, "relu2");
  auto& mean = b.node("ReduceMean", {"relu2"}, {"mean"}, "mean");
  OnnxBuilder::attr(mean, "axes", std::vector<std::int64_t>{-2, -1});
  OnnxBuilder::attr(mean, "keepdims", std::int64_t{0});
  b.initializer("fc_w", {5, 8}, uniform_values(40, 13u, -1.5f, 1.5f));
  b.initializer("fc_b", {5}, uniform_values(5, 14u, -0.3f, 0.3f));
  OnnxBuilder::attr(b.node("Gemm", {"mean", "fc_w", "fc_b"}, {"scores"}, "fc"), "transB", std::int64_t{1});
  b.node("Softmax", {"scores"}, {"probabilities"}, "softmax");
  save(b, dir.path / "m.onnx");

  const LoweredModel m = generate_exact(dir, dir.path / "m.onnx", {3, 12, 12}, 3 * 12 * 12);
  std::map<statiq::LayerKind, int> kinds;
  for (const Layer& l : m.layers) kinds[l.kind] += 1;
  CHECK(m.float_tail.empty());  // the Softmax is the engine's, not the application's
  const auto* dq = std::get_if<statiq::DequantizeAttributes>(&m.layers.back().attributes);
  REQUIRE(dq);
  CHECK(dq->softmax);
  CHECK(m.layers.back().onnx_nodes == std::vector<std::string>{"softmax"});
  CHECK(kinds[statiq::LayerKind::average_pool] == 1);
  for (const Layer& l : m.layers) {  // the Pad is conv1's pads; the ReduceMean a global average
    INFO(l.name);
    if (const auto* c = std::get_if<statiq::ConvAttributes>(&l.attributes); c && l.name == "conv1") {
      CHECK(c->input == statiq::Shape{12, 12, 3});
      CHECK(c->pads.top == 1 + 1);  // its own 1, plus the Pad's
      CHECK(c->pads.left == 1 + 2);
      CHECK(c->pads.bottom == 1 + 2);
      CHECK(c->pads.right == 1 + 1);
    }
  }
  bool averaged = kinds[statiq::LayerKind::global_average_pool] == 1;
  for (const Layer& l : m.layers)
    if (const auto* c = std::get_if<statiq::ConvAttributes>(&l.attributes))
      averaged = averaged || c->pool.kind == statiq::PoolKind::global_average;
  CHECK(averaged);

  // The float output: onnxruntime's Softmax (MLAS's exp) against the engine's, on every sample.
  fs::create_directories(dir.path / "final");
  statiq::test::run_ort(dir.path / "qdq.onnx", dir.path / "x.npy", fmt::format("--out-dir '{}'", (dir.path / "final").string()),
                        dir.path / "final.log");
  const std::vector<float> ort = statiq::io::read_npy(dir.path / "final" / "probabilities.npy").as<float>();
  const std::vector<float> xs = statiq::io::read_npy(dir.path / "x.npy").as<float>();
  REQUIRE(ort.size() == 8 * 5);
  std::int64_t worst_ulp = 0;
  double sum_error = 0;
  for (std::size_t s = 0; s < 8; ++s) {
    const SimulationResult r = simulate(m, xs.data() + s * 3 * 12 * 12);
    REQUIRE(r.dequantized.size() == 5);
    float total = 0;
    for (std::size_t k = 0; k < 5; ++k) {
      const float e = r.dequantized[k], o = ort[s * 5 + k];
      worst_ulp = std::max<std::int64_t>(worst_ulp, std::abs(std::int64_t(std::bit_cast<std::int32_t>(e)) -
                                                               std::int64_t(std::bit_cast<std::int32_t>(o))));
      sum_error += std::abs(double(e) - double(o));
      total += e;
    }
    CHECK(std::abs(total - 1.0f) < 1e-5f);
  }
  WARN("final Softmax: engine vs onnxruntime, worst " << worst_ulp << " ulp, mean |error| " << sum_error / 40);
  CHECK(worst_ulp <= 4);

  ir::Graph g = load_onnx(dir.path / "m.onnx");
  normalize::normalize(g);
  for (const ir::Node& n : g.nodes) CHECK((n.op_type != "Pad" && n.op_type != "ReduceMean"));
  CHECK(check_agrees(dir, dir.path / "m.onnx", "cpu-int8").empty());
  for (const char* target : {"tflite-int8", "gemmini", "akida-v2", "akida-v1"}) {
    INFO(target);
    const std::vector<std::string> refused = check_agrees(dir, dir.path / "m.onnx", target);
    WARN(target << ": check refuses " << refused.size() << " nodes");
  }
}

// The code onnxruntime's QuantizeLinear gives `v` in the quantization `q` (division in float32,
// half to even, saturated to the type), written out here from the ONNX definition.
std::int32_t quantized(float v, const TensorQuantization& q) {
  const float lo = q.is_signed ? -128.0f : 0.0f, hi = q.is_signed ? 127.0f : 255.0f;
  return std::int32_t(std::clamp(std::nearbyint(v / q.scale) + float(q.zero_point), lo, hi));
}

// Pads that no Conv absorbs: a non-zero constant, pads on C, before a MaxPool, a crop, edge, reflect.
TEST_CASE("Pad as a Copy: cpu-int8 == onnxruntime on every layer; check agrees with generate on every target",
          "[ort][pad]") {
  const ScratchDir dir("statiq_ort_pad_copy");
  OnnxBuilder b;
  b.input("x", {1, 3, 8, 8}).output("y", {1, 2, 10, 9});
  conv(b, "conv1", "x", 3, 4, 3, 31u);
  b.node("Relu", {"conv1"}, {"relu1"}, "relu1");
  b.initializer_i64("pads_v", {8}, {0, 0, 1, 2, 0, 0, 0, 1});  // top 1, left 2, bottom 0, right 1
  b.initializer("half", {}, {0.5f});
  b.node("Pad", {"relu1", "pads_v", "half"}, {"padv"}, "padv");  // 8x8 -> 9x11, 0.5 around: no Conv takes that
  conv(b, "conv2", "padv", 4, 4, 3, 32u);
  b.initializer_i64("pads_c", {8}, {0, 1, 0, 0, 0, 2, 0, 0});
  b.node("Pad", {"conv2", "pads_c"}, {"padc"}, "padc");  // zeros on C: 4 -> 7 channels
  b.initializer_i64("pads_m", {8}, {0, 0, 1, 1, 0, 0, 0, 1});
  b.initializer("low", {}, {-100.0f});  // far below the tensor's range: the lowest code, harmless before a MaxPool
  b.node("Pad", {"padc", "pads_m", "low"}, {"padm"}, "padm");  // 9x11 -> 10x13, before a MaxPool
  auto& pool = b.node("MaxPool", {"padm"}, {"pool"}, "pool");  // -> 5x6
  OnnxBuilder::attr(pool, "kernel_shape", std::vector<std::int64_t>{2, 2});
  OnnxBuilder::attr(pool, "strides", std::vector<std::int64_t>{2, 2});
  b.initializer_i64("pads_crop", {8}, {0, 0, -1, 0, 0, 0, 0, -2});
  b.node("Pad", {"pool", "pads_crop"}, {"crop"}, "crop");  // negative pads crop: 5x6 -> 4x4
  b.initializer_i64("pads_e", {8}, {0, 0, 1, 1, 0, 0, 2, 0});
  OnnxBuilder::attr(b.node("Pad", {"crop", "pads_e"}, {"edge"}, "edge"), "mode", std::string("edge"));  // -> 7x5
  b.initializer_i64("pads_r", {8}, {0, 0, 2, 1, 0, 0, 1, 3});
  OnnxBuilder::attr(b.node("Pad", {"edge", "pads_r"}, {"reflect"}, "reflect"), "mode", std::string("reflect"));  // -> 10x9
  conv(b, "y", "reflect", 7, 2, 1, 33u);
  save(b, dir.path / "m.onnx");

  const LoweredModel m = generate_exact(dir, dir.path / "m.onnx", {3, 8, 8}, 3 * 8 * 8);
  std::map<std::string, const Layer*> pads;
  for (const Layer& l : m.layers)
    if (l.kind == statiq::LayerKind::copy) pads[l.name] = &l;
  REQUIRE(pads.size() == 6);
  for (const auto& [name, l] : pads) {
    INFO(name);
    REQUIRE(l->pad);
    CHECK(l->output.scale == m.layers[std::size_t(l->inputs[0])].output.scale);  // a copy keeps the quantization
    CHECK(l->output.zero_point == m.layers[std::size_t(l->inputs[0])].output.zero_point);
    CHECK(facts_of(*l, false).pattern == "Pad");  // the report's operator
    CHECK(l->placement == Placement::device);
  }
  // The fills: the constant as onnxruntime quantizes it; zeros are the zero point.
  CHECK(pads["padv"]->fill == quantized(0.5f, pads["padv"]->output));
  CHECK(pads["padv"]->fill != pads["padv"]->output.zero_point);
  CHECK(pads["padc"]->fill == pads["padc"]->output.zero_point);
  CHECK(pads["padm"]->fill == quantized(-100.0f, pads["padm"]->output));
  CHECK(pads["padm"]->fill == (pads["padm"]->output.is_signed ? -128 : 0));
  // The saturated constant is a note of the reports (names go to JSON as they are).
  const std::string report = statiq::test::slurp(dir.path / "out" / (m.name + "_report.json"));
  CHECK(report.find("node 'padm' (Pad): its constant -100 is outside") != std::string::npos);
  CHECK(report.find("node 'padv' (Pad): its constant") == std::string::npos);  // 0.5 is inside
  // Index tables (NHWC offsets into the input, -1: the constant), worked by hand from the pads.
  auto index = [&](const char* name, int h, int w, int c) {
    const auto& a = std::get<statiq::CopyAttributes>(pads[name]->attributes);
    return pads[name]->qweights.at(std::size_t((h * a.output.w + w) * a.output.c + c));
  };
  CHECK(std::get<statiq::CopyAttributes>(pads["padv"]->attributes).output == statiq::Shape{9, 11, 4});
  CHECK(index("padv", 0, 5, 1) == -1);                 // the top row
  CHECK(index("padv", 3, 1, 2) == -1);                 // the second left column
  CHECK(index("padv", 3, 4, 2) == (2 * 8 + 2) * 4 + 2);
  CHECK(std::get<statiq::CopyAttributes>(pads["padc"]->attributes).output == statiq::Shape{9, 11, 7});
  CHECK(index("padc", 2, 3, 0) == -1);
  CHECK(index("padc", 2, 3, 5) == -1);
  CHECK(index("padc", 2, 3, 4) == (2 * 11 + 3) * 4 + 3);
  CHECK(std::get<statiq::CopyAttributes>(pads["crop"]->attributes).output == statiq::Shape{4, 4, 7});
  CHECK(index("crop", 0, 3, 6) == (1 * 6 + 3) * 7 + 6);  // row 0 is the input's row 1
  CHECK(std::get<statiq::CopyAttributes>(pads["edge"]->attributes).output == statiq::Shape{7, 5, 7});
  CHECK(index("edge", 6, 0, 2) == (3 * 4 + 0) * 7 + 2);  // below and left of the corner: the corner
  CHECK(std::get<statiq::CopyAttributes>(pads["reflect"]->attributes).output == statiq::Shape{10, 9, 7});
  CHECK(index("reflect", 0, 8, 1) == (2 * 5 + 1) * 7 + 1);  // row -2 -> 2, column 7 of 5 -> 1 (8 - 7)

  // The float executor (calibration) pads as onnxruntime does on the float model, all six modes.
  fs::create_directories(dir.path / "float");
  statiq::test::run_ort(dir.path / "m.onnx", dir.path / "x.npy", fmt::format("--out-dir '{}'", (dir.path / "float").string()),
                        dir.path / "float.log");
  const std::vector<float> ort = statiq::io::read_npy(dir.path / "float" / "y.npy").as<float>();
  const std::vector<float> xs = statiq::io::read_npy(dir.path / "x.npy").as<float>();
  REQUIRE(ort.size() == 8 * 2 * 10 * 9);
  const ir::Graph g = load_onnx(dir.path / "m.onnx");
  const exec::FloatExecutor executor(g);
  float worst = 0;
  for (std::size_t s = 0; s < 8; ++s) {
    const std::vector<float> x(xs.begin() + std::ptrdiff_t(s * 192), xs.begin() + std::ptrdiff_t((s + 1) * 192));
    const exec::RunResult r = executor.run({exec::Array::floats({1, 3, 8, 8}, x)});
    REQUIRE(r.outputs.at(0).f.size() == 180);
    for (std::size_t k = 0; k < 180; ++k) worst = std::max(worst, std::abs(r.outputs[0].f[k] - ort[s * 180 + k]));
  }
  CHECK(worst < 1e-4f);  // a wrong source index is off by the spread of the activations (~1)

  CHECK(check_agrees(dir, dir.path / "m.onnx", "cpu-int8").empty());
  for (const char* target : {"tflite-int8", "gemmini", "akida-v2", "akida-v1"}) {
    INFO(target);
    CHECK(check_agrees(dir, dir.path / "m.onnx", target).empty());  // a copy is exact in any arithmetic: host at worst
  }
}

TEST_CASE("Transpose (H and W swapped) and Reshape across channels inside the network: Copy layers, cpu-int8 == "
          "onnxruntime on every layer; check agrees with generate on every target",
          "[ort][layout]") {
  const ScratchDir dir("statiq_ort_layout_copy");
  OnnxBuilder b;
  b.input("x", {1, 3, 6, 5}).output("y", {1, 2, 5, 12});
  conv(b, "conv1", "x", 3, 4, 3, 41u);
  b.node("Relu", {"conv1"}, {"relu1"}, "relu1");
  OnnxBuilder::attr(b.node("Transpose", {"relu1"}, {"swapped"}, "swap_hw"), "perm", std::vector<std::int64_t>{0, 1, 3, 2});
  conv(b, "conv2", "swapped", 4, 4, 3, 42u);                 // [1, 4, 5, 6]
  b.initializer_i64("shape", {4}, {1, 2, 5, 12});
  b.node("Reshape", {"conv2", "shape"}, {"regrouped"}, "regroup");  // channel pairs side by side along W
  conv(b, "y", "regrouped", 2, 2, 1, 43u);
  save(b, dir.path / "m.onnx");

  const LoweredModel m = generate_exact(dir, dir.path / "m.onnx", {3, 6, 5}, 3 * 6 * 5);
  std::map<std::string, const Layer*> copies;
  for (const Layer& l : m.layers)
    if (l.kind == statiq::LayerKind::copy) copies[l.name] = &l;
  REQUIRE(copies.size() == 2);
  REQUIRE(copies.count("swap_hw"));
  REQUIRE(copies.count("regroup"));
  CHECK(copies["swap_hw"]->copy_of == "Transpose");
  CHECK(facts_of(*copies["regroup"], false).pattern == "Reshape");
  // swap_hw: output (h, w, c) of [5, 6, 4] reads input (w, h, c) of [6, 5, 4]: (h, w, c) = (4, 1, 2).
  CHECK(copies["swap_hw"]->qweights.at(std::size_t((4 * 6 + 1) * 4 + 2)) == (1 * 5 + 4) * 4 + 2);
  // regroup: ONNX element (c, h, w) of [2, 5, 12] is flat 60c + 12h + w, which in [4, 5, 6] is
  // channel f / 30, row (f / 6) % 5, column f % 6; (c, h, w) = (1, 3, 7): f = 103 -> (3, 2, 1).
  CHECK(copies["regroup"]->qweights.at(std::size_t((3 * 12 + 7) * 2 + 1)) == (2 * 6 + 1) * 4 + 3);
  CHECK(check_agrees(dir, dir.path / "m.onnx", "cpu-int8").empty());
  for (const char* target : {"tflite-int8", "gemmini", "akida-v2", "akida-v1"}) {
    INFO(target);
    CHECK(check_agrees(dir, dir.path / "m.onnx", target).empty());
  }
}

TEST_CASE("Resize nearest (scales, half_pixel; sizes, asymmetric + floor as PyTorch exports it): a Copy layer, "
          "cpu-int8 == onnxruntime on every layer; on the other targets a host layer, check agrees with generate",
          "[ort][resize]") {
  const ScratchDir dir("statiq_ort_resize");
  OnnxBuilder b;
  b.input("x", {1, 3, 5, 6}).output("y", {1, 2, 15, 16});
  conv(b, "conv1", "x", 3, 4, 3, 21u);
  b.node("Relu", {"conv1"}, {"relu1"}, "relu1");
  b.initializer("scales", {4}, {1.0f, 1.0f, 2.0f, 2.0f});
  b.node("Resize", {"relu1", "", "scales"}, {"up2"}, "up2");  // 5x6 -> 10x12, defaults: half_pixel, round_prefer_floor
  conv(b, "conv2", "up2", 4, 4, 3, 22u);
  b.initializer_i64("sizes", {4}, {1, 4, 15, 16});  // a non-integer factor: 10x12 -> 15x16
  auto& up = b.node("Resize", {"conv2", "", "", "sizes"}, {"up3"}, "up3");
  OnnxBuilder::attr(up, "coordinate_transformation_mode", std::string("asymmetric"));
  OnnxBuilder::attr(up, "nearest_mode", std::string("floor"));
  conv(b, "y", "up3", 4, 2, 1, 23u);
  save(b, dir.path / "m.onnx");

  const LoweredModel m = generate_exact(dir, dir.path / "m.onnx", {3, 5, 6}, 3 * 5 * 6);
  int copies = 0;
  for (const Layer& l : m.layers)
    if (const auto* a = std::get_if<statiq::CopyAttributes>(&l.attributes)) {
      ++copies;
      INFO(l.name);
      CHECK(l.output.scale == m.layers[std::size_t(l.inputs[0])].output.scale);  // a copy keeps the quantization
      if (l.name == "up2") {
        CHECK(a->output == statiq::Shape{10, 12, 4});
        // half_pixel, factor 2: output row 0 and 1 copy input row 0, rows 2 and 3 row 1 ...
        CHECK(l.qweights[std::size_t((3 * 12 + 5) * 4 + 1)] == (1 * 6 + 2) * 4 + 1);
      } else {
        CHECK(a->output == statiq::Shape{15, 16, 4});
        // asymmetric + floor: row 14 -> floor(14 * 10 / 15) = 9, column 15 -> floor(15 * 12 / 16) = 11
        CHECK(l.qweights[std::size_t((14 * 16 + 15) * 4 + 3)] == (9 * 12 + 11) * 4 + 3);
      }
    }
  CHECK(copies == 2);

  CHECK(check_agrees(dir, dir.path / "m.onnx", "cpu-int8").empty());
  for (const char* target : {"tflite-int8", "gemmini", "akida-v2", "akida-v1"}) {
    INFO(target);
    CHECK(check_agrees(dir, dir.path / "m.onnx", target).empty());  // a copy is exact in any arithmetic: host at worst
  }
  // The Copy on Akida 2.0's host, in its pow2 engine: compiles, and reproduces its golden vectors.
  GenerateOptions o;
  o.model = dir.path / "m.onnx";
  o.calib = dir.path / "pixels.npy";
  o.target = "akida-v2";
  o.policy = UnmappedPolicy::host;
  o.output_dir = dir.path / "akida";
  const GenerateResult r = generate(o);
  int host_copies = 0;
  for (const Layer& l : r.model.layers) host_copies += l.kind == statiq::LayerKind::copy && l.placement == Placement::host;
  CHECK(host_copies == 2);
  const std::string self_test = statiq::test::compile_and_self_test(o.output_dir, r.model.name);
  INFO(self_test);
  CHECK(self_test.empty());
}
