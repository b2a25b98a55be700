// statiq-codegen --qdq is a drop-in replacement for the float model (issue 12): the same input and
// output names, dims and float types (QuantizeLinear in, DequantizeLinear out), the float tail
// after the engine included; onnxruntime runs it and gives the engine's dequantized output.
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "codegen/generate/generate.hpp"
#include "codegen/simulate/simulate.hpp"
#include "statiq/io/npy.hpp"
#include "tests/codegen/onnx_builder.hpp"
#include "tests/ort/ort_oracle.hpp"
#include "tests/support/files.hpp"

namespace fs = std::filesystem;
using namespace statiq::codegen;
using statiq::test::OnnxBuilder;
using statiq::test::ScratchDir;

namespace {

const fs::path shared = fs::path(STATIQ_SHARED_DIR);

onnx::ModelProto read_model(const fs::path& file) {
  onnx::ModelProto m;
  std::ifstream f(file, std::ios::binary);
  REQUIRE(m.ParseFromIstream(&f));
  return m;
}

struct Io {
  std::string name;
  int elem_type = 0;
  std::vector<std::int64_t> dims;
  bool operator==(const Io&) const = default;
};
std::vector<Io> ios(const google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>& values) {
  std::vector<Io> out;
  for (const auto& v : values) {
    Io io{v.name(), v.type().tensor_type().elem_type(), {}};
    for (const auto& d : v.type().tensor_type().shape().dim()) io.dims.push_back(d.dim_value());
    out.push_back(io);
  }
  return out;
}

// The float model's graph inputs without its initializers (older exporters list those as inputs).
std::vector<Io> real_inputs(const onnx::ModelProto& m) {
  std::vector<Io> all = ios(m.graph().input()), out;
  for (const Io& io : all) {
    bool init = false;
    for (const auto& t : m.graph().initializer()) init = init || t.name() == io.name;
    if (!init) out.push_back(io);
  }
  return out;
}

void same_interface(const fs::path& float_model, const fs::path& export_file) {
  const onnx::ModelProto f = read_model(float_model), q = read_model(export_file);
  CHECK(ios(q.graph().input()) == real_inputs(f));
  CHECK(ios(q.graph().output()) == ios(f.graph().output()));
  for (const Io& io : ios(q.graph().output())) CHECK(io.elem_type == onnx::TensorProto::FLOAT);
}

bool has_op(const fs::path& file, const std::string& op) {
  const onnx::ModelProto m = read_model(file);
  for (const auto& n : m.graph().node())
    if (n.op_type() == op) return true;
  return false;
}

}  // namespace

TEST_CASE("--qdq drop-in: mnist8's export has the float model's interface and gives the engine's output bit for bit",
          "[ort]") {
  const ScratchDir dir("statiq_qdq_drop_in_mnist8");
  GenerateOptions o;
  o.model = shared / "models/mnist8/model.onnx";
  o.calib = STATIQ_SOURCE_DIR "/examples/data/mnist_1k_u8.npy";
  o.read.max_samples = 300;
  o.eval = shared / "models/mnist8/inputs.npy";
  o.target = "cpu-int8";
  o.golden = 0;
  o.qdq = dir.path / "mnist8_qdq.onnx";
  const GenerateResult r = generate(o);
  same_interface(o.model, o.qdq);
  CHECK(has_op(o.qdq, "DequantizeLinear"));

  // onnxruntime on the export, at its graph output (the float model's name) vs the engine's integers
  // dequantized as the engine's Dequantize does, bit for bit.
  const fs::path out = dir.path / "ort.npy";
  statiq::test::run_ort(o.qdq, o.eval, "-o '" + out.string() + "'", dir.path / "ort.log");
  const std::vector<float> ort = statiq::io::read_npy(out).as<float>();
  const statiq::io::NpyArray inputs = statiq::io::read_npy(o.eval);
  const std::vector<float> x = inputs.as<float>();
  const std::size_t rows = inputs.shape.at(0), row_size = x.size() / rows;
  std::size_t compared = 0, different = 0;
  for (std::size_t s = 0; s < rows; ++s) {
    const SimulationResult sim = simulate(r.model, x.data() + s * row_size);
    REQUIRE(ort.size() == rows * sim.dequantized.size());
    for (std::size_t i = 0; i < sim.dequantized.size(); ++i, ++compared)
      different += std::bit_cast<std::uint32_t>(ort[s * sim.dequantized.size() + i]) !=
                   std::bit_cast<std::uint32_t>(sim.dequantized[i]);
  }
  CHECK(compared == rows * 10);
  CHECK(different == 0);
}

TEST_CASE("--qdq drop-in: a 2-D input and a float tail (Softmax; --unmapped float) keep the float model's interface",
          "[ort]") {
  const ScratchDir dir("statiq_qdq_drop_in_2d");
  // x [1, 16] -> Gemm (8) -> Relu -> Gemm (4) -> [Elu -> Gemm (4)] -> Softmax -> y [1, 4]
  auto model = [&](bool tail) {
    OnnxBuilder b;
    b.input("x", {1, 16}).output("y", {1, 4});
    std::vector<float> w1, w2, w3;
    for (int i = 0; i < 8 * 16; ++i) w1.push_back(float((i * 37) % 23 - 11) / 16.0f);
    for (int i = 0; i < 4 * 8; ++i) w2.push_back(float((i * 29) % 19 - 9) / 8.0f);
    for (int i = 0; i < 4 * 4; ++i) w3.push_back(float((i * 13) % 7 - 3) / 4.0f);
    b.initializer("w1", {8, 16}, w1).initializer("b1", {8}, std::vector<float>(8, 0.125f));
    b.initializer("w2", {4, 8}, w2).initializer("b2", {4}, std::vector<float>(4, -0.25f));
    b.initializer("w3", {4, 4}, w3).initializer("b3", {4}, std::vector<float>(4, 0.5f));
    OnnxBuilder::attr(b.node("Gemm", {"x", "w1", "b1"}, {"h"}, "fc1"), "transB", std::int64_t{1});
    b.node("Relu", {"h"}, {"hr"}, "relu1");
    OnnxBuilder::attr(b.node("Gemm", {"hr", "w2", "b2"}, {"logits"}, "fc2"), "transB", std::int64_t{1});
    std::string last = "logits";
    if (tail) {
      b.node("Elu", {"logits"}, {"l"}, "elu");  // no statiq layer: float from here on
      OnnxBuilder::attr(b.node("Gemm", {"l", "w3", "b3"}, {"l3"}, "fc3"), "transB", std::int64_t{1});
      last = "l3";
    }
    b.node("Softmax", {last}, {"y"}, "softmax");
    const fs::path file = dir.path / (tail ? "tail.onnx" : "plain.onnx");
    std::ofstream f(file, std::ios::binary);
    REQUIRE(b.model.SerializeToOstream(&f));
    return file;
  };
  std::vector<float> xs;
  for (int s = 0; s < 16; ++s)
    for (int i = 0; i < 16; ++i) xs.push_back(float((s * 11 + i * 5) % 17) / 8.0f - 1.0f);
  const fs::path samples = dir.path / "x.npy";
  statiq::io::write_npy<float>(samples, {16, 16}, std::span<const float>(xs));

  for (const bool tail : {false, true}) {
    INFO((tail ? "Elu + Gemm + Softmax in float (--unmapped float)" : "Softmax in float"));
    GenerateOptions o;
    o.model = model(tail);
    o.calib = samples;
    o.target = "cpu-int8";
    o.golden = 0;
    if (tail) o.policy = UnmappedPolicy::float_tail;
    o.qdq = dir.path / (tail ? "leaky_qdq.onnx" : "plain_qdq.onnx");
    const GenerateResult r = generate(o);
    same_interface(o.model, o.qdq);
    CHECK(has_op(o.qdq, "Softmax"));
    CHECK(has_op(o.qdq, "Elu") == tail);

    // The export's output: the float tail applied to the engine's dequantized output. Without the
    // Elu the engine computes the final Softmax itself (its Dequantize), and the export's is
    // softmax(engine logits), up to onnxruntime's own float Softmax rounding.
    const fs::path out = dir.path / (tail ? "tail.npy" : "plain.npy");
    statiq::test::run_ort(o.qdq, samples, "-o '" + out.string() + "'", dir.path / "ort.log");
    const std::vector<float> ort = statiq::io::read_npy(out).as<float>();
    REQUIRE(ort.size() == 16 * 4);
    for (std::size_t s = 0; s < 16; ++s) {
      double sum = 0;
      for (std::size_t i = 0; i < 4; ++i) sum += ort[s * 4 + i];
      CHECK(sum == Approx(1.0).epsilon(1e-5));  // probabilities: the Softmax ran
      if (tail) continue;
      const SimulationResult sim = simulate(r.model, xs.data() + s * 16);
      REQUIRE(sim.dequantized.size() == 4);
      REQUIRE(sim.output.size() == 4);
      const TensorQuantization& q = r.model.layers.back().output;  // what the final Dequantize undoes
      std::vector<double> logits;
      for (std::int32_t v : sim.output) logits.push_back(double(v - q.zero_point) * double(q.scale));
      double mx = logits[0], den = 0;
      for (double v : logits) mx = std::max(mx, v);
      for (double v : logits) den += std::exp(v - mx);
      for (std::size_t i = 0; i < 4; ++i) {
        CHECK(sim.dequantized[i] == Approx(std::exp(logits[i] - mx) / den).epsilon(1e-5));  // the engine's Softmax
        CHECK(ort[s * 4 + i] == Approx(std::exp(logits[i] - mx) / den).epsilon(1e-5));
      }
    }
  }
}
