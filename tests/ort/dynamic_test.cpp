// Dynamic quantization (statiq/layers/dynamic.hpp) against hand values, and end to end against
// onnxruntime-node 1.30.0: mnist8 and opt_mnist made dynamic by quantize_dynamic() (per tensor and per
// channel weights), exported by codegen/export/dynamic_export (DynamicQuantizeLinear -> ConvInteger /
// MatMulInteger -> Cast -> Mul -> Add ...) and run by tools/ort/run.js on all 10,000 MNIST digits,
// give statiq's simulation (compute_dynamic, the engine's functions) float for float, bit for bit —
// with onnxruntime's fusions (level all: DynamicQuantizeMatMul) and without them (level disabled).
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include "tests/support/files.hpp"
#include "codegen/export/dynamic_export.hpp"
#include "codegen/generate/generate.hpp"
#include "codegen/lower/lower.hpp"
#include "codegen/normalize/normalize.hpp"
#include "codegen/onnx/load_onnx.hpp"
#include "codegen/quantize/dynamic.hpp"
#include "codegen/simulate/simulate.hpp"
#include "statiq/io/npy.hpp"
#include "statiq/layers/dynamic.hpp"
#include "tests/ort/ort_oracle.hpp"

namespace fs = std::filesystem;
using namespace statiq;

using statiq::test::ScratchDir;
using statiq::test::slurp;
using statiq::test::ort_file_name;
using statiq::test::row_nhwc;
using statiq::test::run_ort;

namespace {

const fs::path shared = fs::path(STATIQ_SHARED_DIR);

}  // namespace

TEST_CASE("DynamicQuantizeLinear parameters: hand values", "[dynamic]") {
  // ONNX's own example: x = [0, 2, -3, -2.5, 1.34, 0.5] -> range [-3, 2], scale = 5/255,
  // zp = round(3 / (5/255)) = round(153) = 153; y = round(x / scale) + zp.
  const std::vector<float> x{0.0f, 2.0f, -3.0f, -2.5f, 1.34f, 0.5f};
  std::vector<std::uint8_t> q(x.size());
  const DynamicQuantParams p = dynamic_quantize_linear(x, q);
  CHECK(p.scale == 5.0f / 255.0f);
  CHECK(p.zero_point == 153);
  CHECK(q == std::vector<std::uint8_t>{153, 255, 0, 26, 221, 179});
  // All positive: the range is widened to 0, zp 0; max maps to 255.
  const std::vector<float> pos{1.0f, 2.55f, 0.5f};
  std::vector<std::uint8_t> qp(3);
  const DynamicQuantParams pp = dynamic_quantize_linear(pos, qp);
  CHECK(pp.scale == 2.55f / 255.0f);
  CHECK(pp.zero_point == 0);
  CHECK(qp[1] == 255);
  // All negative: zp 255.
  const std::vector<float> neg{-1.0f, -4.0f};
  std::vector<std::uint8_t> qn(2);
  CHECK(dynamic_quantize_linear(neg, qn).zero_point == 255);
  CHECK(qn[1] == 0);
  // All zero: scale 1, zp 0 (the empty range).
  const std::vector<float> zero{0.0f, 0.0f};
  std::vector<std::uint8_t> qz(2);
  const DynamicQuantParams pz = dynamic_quantize_linear(zero, qz);
  CHECK(pz.scale == 1.0f);
  CHECK(pz.zero_point == 0);
  // A tie in the zero point: min = -0.5 * scale-ish is hard to hit by hand; a tie in x/scale: with range
  // [-1.275, 1.275] (scale 0.01 up to float rounding) ... checked against re-derived float math instead.
  const std::vector<float> t{-1.0f, 3.0f, 0.37f};
  std::vector<std::uint8_t> qt(3);
  const DynamicQuantParams pt = dynamic_quantize_linear(t, qt);
  const float s = 4.0f / 255.0f;
  CHECK(pt.scale == s);
  CHECK(pt.zero_point == int(std::nearbyint(1.0f / s)));
  CHECK(qt[2] == int(std::nearbyint(0.37f / s)) + pt.zero_point);
}

TEST_CASE("a dynamic Dense: integer sums and float rescale re-derived", "[dynamic]") {
  // K = 3, N = 2: x quantized at scale 4/255 (range [-1, 3]); w int8 [K, N].
  const std::vector<float> x{-1.0f, 3.0f, 0.37f};
  const std::vector<float> wf{0.5f, -1.0f, 0.25f, 0.0f, -0.125f, 1.0f};
  std::vector<std::int8_t> w(6);
  const float ws = quantize_dynamic_weights(wf, w).scale;
  CHECK(ws == 1.0f / 127.0f);
  CHECK(w == std::vector<std::int8_t>{64, -127, 32, 0, -16, 127});  // 63.5 -> 64 (half to even), 31.75 -> 32
  const std::vector<float> bias{0.5f, -0.25f};
  std::vector<float> y(2);
  // The layer's weights are [units][inputs]: MatMul's B transposed.
  std::vector<std::int8_t> wt(6);
  for (int n = 0; n < 2; ++n)
    for (int k = 0; k < 3; ++k) wt[std::size_t(n * 3 + k)] = w[std::size_t(k * 2 + n)];
  const DenseAttributes a{.input = {1, 1, 3}, .units = 2};
  std::vector<std::int32_t> scratch(dynamic_scratch_words(a));
  compute_dynamic(a, x.data(), wt.data(), DynamicData{bias.data(), &ws, false, 0.0f}, y.data(), scratch.data());
  const float s = 4.0f / 255.0f;
  const int zp = int(std::nearbyint(1.0f / s));
  const int q[3] = {0, 255, int(std::nearbyint(0.37f / s)) + zp};
  for (int n = 0; n < 2; ++n) {
    std::int64_t acc = 0;
    for (int k = 0; k < 3; ++k) acc += std::int64_t(q[k] - zp) * w[k * 2 + n];
    volatile float prod = float(acc) * (s * ws);
    CHECK(std::bit_cast<std::uint32_t>(y[n]) == std::bit_cast<std::uint32_t>(float(prod + bias[n])));
    CHECK(std::fabs(y[n] - (x[0] * wf[n] + x[1] * wf[2 + n] + x[2] * wf[4 + n] + bias[n])) < 0.05f);
  }
}

// --- the dynamic export against onnxruntime ---------------------------------------------------------

namespace {

using codegen::LoweredModel;
using codegen::WeightQuantizerKind;

// load_onnx -> normalize -> lower for cpu-int8 -> quantize_dynamic with the weight quantizer `weights`.
LoweredModel dynamic_lowered(const std::string& name, WeightQuantizerKind weights) {
  codegen::ir::Graph g = codegen::load_onnx(shared / "models" / name / "model.onnx");
  codegen::normalize::normalize(g);
  LoweredModel m = codegen::lower(g, codegen::find_target("cpu-int8"), codegen::LowerOptions{});
  codegen::QuantizeOptions o;
  o.weights = weights;
  codegen::quantize_dynamic(m, o);
  return m;
}

// Elements whose float32 bits differ (a size difference counts every element); `max_diff` keeps the
// largest |ort - mine| seen.
std::size_t mismatches(const std::vector<float>& ort, const std::vector<float>& mine, float& max_diff) {
  if (ort.size() != mine.size()) return std::max(ort.size(), mine.size());
  std::size_t n = 0;
  for (std::size_t i = 0; i < ort.size(); ++i) {
    n += std::bit_cast<std::uint32_t>(ort[i]) != std::bit_cast<std::uint32_t>(mine[i]);
    max_diff = std::max(max_diff, std::fabs(ort[i] - mine[i]));
  }
  return n;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

constexpr const char* levels[] = {"all", "disabled"};

// Every layer of `m` (exported to `exported`): its float output, named dynamic_tensor_name(), for the
// first `samples` rows of `inputs`, from onnxruntime at each optimisation level against simulate().
void check_layers(const LoweredModel& m, const fs::path& exported, const fs::path& work, const fs::path& inputs,
                  std::size_t samples, const char* label) {
  const io::NpyArray gx = io::read_npy(inputs);
  const std::vector<float> gin = gx.as<float>();
  const std::size_t row_size = std::size_t(m.input_shape.size());
  REQUIRE(gx.shape.at(0) >= samples);
  std::vector<codegen::SimulationResult> sims;
  for (std::size_t s = 0; s < samples; ++s) sims.push_back(codegen::simulate(m, gin.data() + s * row_size));
  std::string names;
  for (std::size_t i = 0; i < m.layers.size(); ++i) names += (i ? "," : "") + codegen::dynamic_tensor_name(m, i);
  for (const std::string level : levels) {
    const fs::path out = work / ("layers_" + level);
    fs::create_directories(out);
    run_ort(exported, inputs,
            fmt::format("--rows {} --level {} --outputs '{}' --out-dir '{}'", samples, level, names, out.string()),
            work / "ort_layers.log");
    std::size_t total = 0;
    for (std::size_t i = 0; i < m.layers.size(); ++i) {
      const std::vector<float> y = io::read_npy(out / ort_file_name(codegen::dynamic_tensor_name(m, i))).as<float>();
      std::size_t layer_bad = 0;
      float max_diff = 0.0f;
      for (std::size_t s = 0; s < samples; ++s)
        layer_bad += mismatches(row_nhwc(y, s, sims[s].shapes[i]), sims[s].float_layers[i], max_diff);
      if (layer_bad)
        WARN(m.name << " layer " << i << " '" << m.layers[i].name << "', level " << level << ": " << layer_bad
                    << " mismatching floats, max |diff| " << max_diff);
      total += layer_bad;
    }
    WARN(m.name << " (" << label << " weights), level " << level << ": every layer (" << m.layers.size() << ") on "
                << samples << " inputs, " << total << " mismatching floats");
    CHECK(total == 0);
  }
}

// One model and weight quantizer: the exported graph in onnxruntime (one process per optimisation
// level over all 10,000 digits) against simulate() at the output, then every layer on 3 of the
// model's golden inputs. Every float must have the simulation's bits.
void check_against_ort(const char* model_name, WeightQuantizerKind weights, const char* label) {
  const auto start = std::chrono::steady_clock::now();
  const LoweredModel m = dynamic_lowered(model_name, weights);
  REQUIRE(m.dynamic);
  ScratchDir dir(fmt::format("statiq_ort_dynamic_{}_{}", model_name, label));
  const fs::path exported = dir.path / "dynamic.onnx";
  codegen::write_dynamic_model(m, exported);

  // All digits through the simulation once: the reference for both levels.
  const fs::path digits = shared / "data/mnist_10k_u8.npy";
  const io::NpyArray px = io::read_npy(digits);
  const std::vector<float> pixels = px.as<float>();
  const Shape in = m.input_shape;
  const std::size_t rows = px.shape.at(0), row_size = std::size_t(in.size());
  REQUIRE(rows == 10000);
  REQUIRE(pixels.size() == rows * row_size);
  std::vector<std::vector<float>> expected(rows);
  for (std::size_t r = 0; r < rows; ++r) expected[r] = codegen::simulate(m, pixels.data() + r * row_size).dequantized;
  const Shape out_shape = output_type(m.layers.back()).shape;
  const double simulated = seconds_since(start);

  for (const std::string level : levels) {
    const auto t = std::chrono::steady_clock::now();
    const fs::path out = dir.path / (level + ".npy"), optimized = dir.path / (level + "_optimized.onnx");
    run_ort(exported, digits,
            fmt::format("--row-shape 1,{},{},{} --level {} -o '{}' --optimized-model '{}'", in.c, in.h, in.w, level,
                        out.string(), optimized.string()),
            dir.path / "ort.log");
    // At "all" onnxruntime fuses the Dense's DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul -> Add
    // into DynamicQuantizeMatMul (MLAS' scale-then-bias output processor); "disabled" runs every node.
    const bool fused = slurp(optimized).find("DynamicQuantizeMatMul") != std::string::npos;
    CHECK(fused == (level == "all"));
    const io::NpyArray ort = io::read_npy(out);
    REQUIRE(ort.shape.at(0) == rows);
    const std::vector<float> y = ort.as<float>();
    std::size_t bad = 0, bad_samples = 0;
    float max_diff = 0.0f;
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t k = mismatches(row_nhwc(y, r, out_shape), expected[r], max_diff);
      bad += k;
      bad_samples += k != 0;
    }
    WARN(model_name << " (" << label << " weights), level " << level << ": " << rows << " digits, " << bad
                    << " mismatching floats of " << rows * std::size_t(out_shape.size()) << " in " << bad_samples
                    << " digits, max |diff| " << max_diff << "; onnxruntime " << fmt::format("{:.1f}", seconds_since(t))
                    << " s, simulation " << fmt::format("{:.1f}", simulated) << " s");
    CHECK(bad == 0);
  }

  // Every layer: its float output named dynamic_tensor_name(), on 3 golden inputs ([N, 1, 28, 28] floats).
  check_layers(m, exported, dir.path, shared / "models" / model_name / "inputs.npy", 3, label);
}

std::vector<std::string> op_types(const onnx::GraphProto& g) {
  std::vector<std::string> ops;
  for (const auto& n : g.node()) ops.push_back(n.op_type());
  return ops;
}

const onnx::TensorProto* initializer(const onnx::GraphProto& g, const std::string& name) {
  for (const auto& t : g.initializer())
    if (t.name() == name) return &t;
  return nullptr;
}

std::vector<std::int64_t> dims_of(const onnx::TensorProto& t) { return {t.dims().begin(), t.dims().end()}; }

}  // namespace

TEST_CASE("dynamic export: the graph, layer by layer", "[dynamic]") {
  for (const char* name : {"mnist8", "opt_mnist"})
    for (const WeightQuantizerKind wq : {WeightQuantizerKind::max, WeightQuantizerKind::max_per_axis}) {
      const bool per_channel = wq == WeightQuantizerKind::max_per_axis;
      INFO(name << (per_channel ? " per channel" : " per tensor"));
      const LoweredModel m = dynamic_lowered(name, wq);
      // Conv -> Relu -> MaxPool twice, then the Gemm/MatMul over the flattened 16 x 4 x 4 map.
      REQUIRE(m.layers.size() == 3);
      const onnx::ModelProto p = codegen::dynamic_model(m);
      const onnx::GraphProto& g = p.graph();
      const std::vector<std::string> conv{"DynamicQuantizeLinear", "ConvInteger", "Cast", "Mul", "Mul", "Add", "Relu",
                                          "MaxPool"};
      const std::vector<std::string> dense{"Flatten", "DynamicQuantizeLinear", "MatMulInteger", "Cast", "Mul", "Mul",
                                           "Add"};
      std::vector<std::string> expected = conv;
      expected.insert(expected.end(), conv.begin(), conv.end());
      expected.insert(expected.end(), dense.begin(), dense.end());
      CHECK(op_types(g) == expected);
      REQUIRE(p.opset_import_size() == 1);
      CHECK(p.opset_import(0).version() == 13);

      // The chain: each layer quantizes the previous layer's float output (the Dense its flattening).
      CHECK(g.node(0).input(0) == m.input_tensor);
      CHECK(g.node(8).input(0) == codegen::dynamic_tensor_name(m, 0));
      CHECK(g.node(16).input(0) == codegen::dynamic_tensor_name(m, 1));
      CHECK(g.node(17).input(0) == g.node(16).output(0));
      CHECK(g.node(7).output(0) == codegen::dynamic_tensor_name(m, 0));
      CHECK(g.node(15).output(0) == codegen::dynamic_tensor_name(m, 1));
      CHECK(g.node(22).output(0) == codegen::dynamic_tensor_name(m, 2));
      REQUIRE(g.output_size() == 1);
      CHECK(g.output(0).name() == codegen::dynamic_tensor_name(m, 2));
      CHECK(g.output(0).type().tensor_type().shape().dim_size() == 2);
      CHECK(g.output(0).type().tensor_type().shape().dim(1).dim_value() == 10);

      // The integer ops read int8 weights (OIHW / [K, N]) with an int8 scalar zero point 0, and
      // uint8 activations with the DynamicQuantizeLinear's zero point; MaxPool 2x2/2, then 3x3/3.
      const std::vector<std::pair<int, std::vector<std::int64_t>>> integer_ops{
          {1, {8, 1, 5, 5}}, {9, {16, 8, 5, 5}}, {18, {256, 10}}};
      for (const auto& [k, dims] : integer_ops) {
        const onnx::NodeProto& n = g.node(k);
        INFO(n.name());
        CHECK(n.input(0) == g.node(k - 1).output(0));
        CHECK(n.input(2) == g.node(k - 1).output(2));
        const onnx::TensorProto* w = initializer(g, n.input(1));
        const onnx::TensorProto* zp = initializer(g, n.input(3));
        REQUIRE(w);
        REQUIRE(zp);
        CHECK(w->data_type() == onnx::TensorProto::INT8);
        CHECK(dims_of(*w) == dims);
        CHECK(zp->data_type() == onnx::TensorProto::INT8);
        CHECK(zp->dims_size() == 0);
        CHECK(zp->raw_data() == std::string(1, '\0'));
        // Mul(x_scale, W_scale): W_scale a scalar, or [1, C, 1, 1] / [N].
        const onnx::NodeProto& scales = g.node(k + 2);
        CHECK(scales.input(0) == g.node(k - 1).output(1));
        const onnx::TensorProto* ws = initializer(g, scales.input(1));
        REQUIRE(ws);
        const std::int64_t channels = dims[0] == 256 ? 10 : dims[0];
        const std::vector<std::int64_t> channel_dims =
            dims.size() == 2 ? std::vector<std::int64_t>{channels} : std::vector<std::int64_t>{1, channels, 1, 1};
        CHECK(dims_of(*ws) == (per_channel ? channel_dims : std::vector<std::int64_t>{}));
        // Mul(cast, scales), then Add of the float bias shaped like the scales.
        CHECK(g.node(k + 3).input(0) == g.node(k + 1).output(0));
        CHECK(g.node(k + 3).input(1) == scales.output(0));
        const onnx::TensorProto* b = initializer(g, g.node(k + 4).input(1));
        REQUIRE(b);
        CHECK(dims_of(*b) == channel_dims);
      }
      for (const int k : {7, 15}) {
        const onnx::NodeProto& pool = g.node(k);
        REQUIRE(pool.attribute_size() >= 1);
        const std::int64_t size = k == 7 ? 2 : 3;
        for (const auto& a : pool.attribute())
          if (a.name() == "kernel_shape" || a.name() == "strides")
            CHECK(std::vector<std::int64_t>(a.ints().begin(), a.ints().end()) == std::vector<std::int64_t>{size, size});
      }
    }
}

TEST_CASE("dynamic export: refuses models without a dynamic form, naming the layer", "[dynamic]") {
  using Catch::Matchers::Contains;
  // A statically quantized model (calibrated QDQ arithmetic): its first layer is the engine's Quantize.
  codegen::GenerateOptions o;
  o.model = shared / "models/mnist8/model.onnx";
  o.target = "cpu-int8";
  o.calib = STATIQ_SOURCE_DIR "/examples/data/mnist_1k_u8.npy";
  o.read.max_samples = 20;
  o.eval = shared / "models/mnist8/inputs.npy";
  o.golden = 0;
  const codegen::GenerateResult r = codegen::generate(o);
  REQUIRE(!r.model.dynamic);
  REQUIRE_THROWS_WITH(codegen::dynamic_model(r.model),
                      Contains("'" + r.model.layers[0].name + "'") && Contains("quantize_dynamic"));
  // One layer of a dynamic model that is not dynamic: named.
  LoweredModel m = dynamic_lowered("mnist8", WeightQuantizerKind::max);
  LoweredModel broken = m;
  broken.layers[1].dynamic = false;
  REQUIRE_THROWS_WITH(codegen::dynamic_model(broken), Contains("'" + m.layers[1].name + "'"));
  // Another target: onnxruntime's CPU scheme only.
  LoweredModel other = m;
  other.target = "akida_v2";
  REQUIRE_THROWS_WITH(codegen::dynamic_model(other), Contains("cpu_int8"));
  // The export of the dynamic model itself is fine, and written atomically (no temporary left behind).
  ScratchDir dir("statiq_dynamic_export_write");
  codegen::write_dynamic_model(m, dir.path / "m.onnx");
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
  onnx::ModelProto back;
  CHECK(back.ParseFromString(slurp(dir.path / "m.onnx")));
  CHECK(back.graph().node_size() == codegen::dynamic_model(m).graph().node_size());
}

TEST_CASE("dynamic export == onnxruntime, mnist8, per-tensor weights (all 10,000 digits)", "[dynamic][ort]") {
  check_against_ort("mnist8", WeightQuantizerKind::max, "per_tensor");
}
TEST_CASE("dynamic export == onnxruntime, mnist8, per-channel weights (all 10,000 digits)", "[dynamic][ort]") {
  check_against_ort("mnist8", WeightQuantizerKind::max_per_axis, "per_channel");
}
TEST_CASE("dynamic export == onnxruntime, opt_mnist, per-tensor weights (all 10,000 digits)", "[dynamic][ort]") {
  check_against_ort("opt_mnist", WeightQuantizerKind::max, "per_tensor");
}
TEST_CASE("dynamic export == onnxruntime, opt_mnist, per-channel weights (all 10,000 digits)", "[dynamic][ort]") {
  check_against_ort("opt_mnist", WeightQuantizerKind::max_per_axis, "per_channel");
}

// The MLPerf models (and the random-weight torchvision ResNet) with --dynamic: residual Adds in float, depthwise ConvInteger (group = channels),
// DynamicQuantizeLinear shared by a residual block's two branches, the final average folded into
// the Gemm. Every layer on every row of the model's inputs.npy, both optimisation levels.
TEST_CASE("dynamic export == onnxruntime, MLPerf models and tv_resnet (every layer, every sample)", "[dynamic][ort]") {
  const std::string name =
      GENERATE(as<std::string>{}, "mlperf_resnet8", "mlperf_kws", "mlperf_vww", "tv_resnet_bb1111_random");
  INFO(name);
  LoweredModel m = dynamic_lowered(name, WeightQuantizerKind::max_per_axis);
  m.name = name;
  REQUIRE(m.dynamic);
  ScratchDir dir("statiq_ort_dynamic_" + name);
  const fs::path exported = dir.path / "dynamic.onnx";
  codegen::write_dynamic_model(m, exported);
  const fs::path inputs = shared / "models" / name / "inputs.npy";
  check_layers(m, exported, dir.path, inputs, io::read_npy(inputs).shape.at(0), "per_channel");
}
