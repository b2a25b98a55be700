// The qlinear profile's rules where onnxruntime proved the earlier form wrong, checked against the
// real onnxruntime (tools/ort) on one-op QDQ models: here ORT is the independent reference.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "statiq/arith/qlinear.hpp"
#include "statiq/io/npy.hpp"

namespace fs = std::filesystem;
using statiq::arith::qlinear;

namespace {

void add_scalar(onnx::GraphProto* g, const std::string& name, int type, float f, std::int32_t i) {
  onnx::TensorProto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(type);
  if (type == onnx::TensorProto::FLOAT) t->add_float_data(f);
  else t->add_int32_data(i);
}

void value_info(onnx::ValueInfoProto* v, const std::string& name, std::vector<std::int64_t> dims) {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::UINT8);
  for (auto d : dims) t->mutable_shape()->add_dim()->set_dim_value(d);
}

// The float multiplier statiq used before: float32(x/y), then divided by the count in double.
float two_step_multiplier(float x_scale, float y_scale, int count) {
  return static_cast<float>(static_cast<double>(x_scale / y_scale) / count);
}

std::int32_t requantize(std::int64_t sum, float m) { return qlinear::requantize(sum, {m}, {0, 0, 255}); }

}  // namespace

// DQ -> GlobalAveragePool -> Q becomes QLinearGlobalAveragePool, whose MLAS kernel multiplies the
// sum by x_scale / (y_scale * float(count)) (qlgavgpool.cpp). Scales and sums are searched where
// that and the two-step multiplier round a sum differently; ORT must agree with the profile.
TEST_CASE("qlinear: QLinearGlobalAveragePool's multiplier is x / (y * count), as onnxruntime computes it",
          "[ort][arith]") {
  constexpr int H = 7, W = 7, count = H * W, channels = 16;
  float x_scale = 0, y_scale = 0.05f;
  std::vector<std::int64_t> differing;  // sums the two multipliers requantize differently
  for (int k = 0; k < 4000 && differing.size() < channels / 2; ++k) {
    x_scale = 0.01f + 1e-6f * static_cast<float>(k);
    const float now = qlinear::average_multiplier(x_scale, y_scale, count);
    const float before = two_step_multiplier(x_scale, y_scale, count);
    if (now == before) continue;
    differing.clear();
    for (std::int64_t s = 0; s <= 255 * count && differing.size() < channels / 2; ++s)
      if (requantize(s, now) != requantize(s, before)) differing.push_back(s);
  }
  REQUIRE(!differing.empty());  // such scales exist: the rule is observable
  // Channel c's 49 pixels sum to sums[c]: the differing sums, then plain ones.
  std::vector<std::int64_t> sums = differing;
  for (int c = static_cast<int>(sums.size()); c < channels; ++c) sums.push_back(37 * c + 5);
  std::vector<std::uint8_t> x(std::size_t(channels) * count);
  for (int c = 0; c < channels; ++c) {
    std::int64_t left = sums[std::size_t(c)];
    for (int i = 0; i < count; ++i) {
      const std::int64_t v = std::min<std::int64_t>(255, left / (count - i) + (left % (count - i) ? 1 : 0));
      x[std::size_t(c) * count + i] = static_cast<std::uint8_t>(v);
      left -= v;
    }
    REQUIRE(left == 0);
  }

  const fs::path dir = fs::temp_directory_path() / ("statiq_ort_gap_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.add_opset_import()->set_version(13);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name("gap");
  add_scalar(g, "xs", onnx::TensorProto::FLOAT, x_scale, 0);
  add_scalar(g, "ys", onnx::TensorProto::FLOAT, y_scale, 0);
  add_scalar(g, "zp", onnx::TensorProto::UINT8, 0, 0);
  auto node = [&](const char* op, std::vector<std::string> in, const char* out) {
    onnx::NodeProto* n = g->add_node();
    n->set_op_type(op);
    for (auto& i : in) n->add_input(i);
    n->add_output(out);
  };
  node("DequantizeLinear", {"x", "xs", "zp"}, "xf");
  node("GlobalAveragePool", {"xf"}, "yf");
  node("QuantizeLinear", {"yf", "ys", "zp"}, "y");
  value_info(g->add_input(), "x", {1, channels, H, W});
  value_info(g->add_output(), "y", {1, channels, 1, 1});
  {
    std::ofstream f(dir / "gap.onnx", std::ios::binary);
    REQUIRE(m.SerializeToOstream(&f));
  }
  statiq::io::write_npy(dir / "x.npy", {std::size_t(1), std::size_t(channels), std::size_t(H), std::size_t(W)},
                        std::span<const std::uint8_t>(x));
  const std::string cmd = fmt::format("'{}' '{}' '{}' --input '{}' --dtype uint8 -o '{}' --optimized-model '{}' > '{}' 2>&1",
                                      STATIQ_NODE, STATIQ_ORT_RUN, (dir / "gap.onnx").string(),
                                      (dir / "x.npy").string(), (dir / "y.npy").string(),
                                      (dir / "opt.onnx").string(), (dir / "log").string());
  const int status = std::system(cmd.c_str());
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  std::ifstream opt(dir / "opt.onnx", std::ios::binary);
  const std::string optimized((std::istreambuf_iterator<char>(opt)), std::istreambuf_iterator<char>());
  CHECK(optimized.find("QLinearGlobalAveragePool") != std::string::npos);  // ORT ran the integer kernel
  const std::vector<std::int32_t> y = statiq::io::read_npy(dir / "y.npy").as<std::int32_t>();
  fs::remove_all(dir);
  REQUIRE(y.size() == std::size_t(channels));
  const float now = qlinear::average_multiplier(x_scale, y_scale, count);
  const float before = two_step_multiplier(x_scale, y_scale, count);
  int before_wrong = 0;
  for (int c = 0; c < channels; ++c) {
    INFO("channel " << c << " sum " << sums[std::size_t(c)] << " x_scale " << x_scale);
    CHECK(y[std::size_t(c)] == requantize(sums[std::size_t(c)], now));
    before_wrong += y[std::size_t(c)] != requantize(sums[std::size_t(c)], before);
  }
  CHECK(before_wrong == static_cast<int>(differing.size()));
}
