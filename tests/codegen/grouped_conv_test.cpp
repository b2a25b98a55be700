// Grouped convolutions (1 < group < input channels) through statiq-codegen: their weights are emitted
// per group in the oc16_k4 order (WeightLayout::groups in the weights' type), the engine compiles and
// reproduces the simulation's golden vectors bit for bit, and the report names the kernel this build
// runs them with (the AVX-512 VNNI grouped kernel where the build has it, else the reference).
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "codegen/generate/generate.hpp"
#include "onnx_builder.hpp"
#include "statiq/io/npy.hpp"
#include "statiq/kernels/select.hpp"
#include "tests/support/files.hpp"
#include "tests/support/selftest.hpp"

namespace fs = std::filesystem;
using statiq::test::OnnxBuilder;

namespace {

std::vector<float> random_values(std::size_t n, unsigned seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

}  // namespace

TEST_CASE("grouped convolutions: emitted per group in oc16_k4, bit-exact, run by the grouped kernel", "[codegen][grouped]") {
  const statiq::test::ScratchDir scratch("statiq_grouped_conv");
  const fs::path& dir = scratch.path;
  // x [1, 8, 10, 10] -> Conv group 2 (8 -> 12, 3x3, pads 1) -> Relu -> Conv group 4 (12 -> 8, 3x3,
  // stride 2: 3 input and 2 output channels a group) -> Relu -> GlobalAveragePool.
  OnnxBuilder b;
  b.input("x", {1, 8, 10, 10}).output("y", {1, 8, 1, 1});
  const auto conv = [&](const std::string& name, const std::string& in, const std::string& out, int ci, int co,
                        int group, std::int64_t stride, unsigned seed) {
    b.initializer(name + "_w", {co, ci / group, 3, 3}, random_values(std::size_t(co * (ci / group) * 9), seed, 0.4f));
    b.initializer(name + "_b", {co}, random_values(std::size_t(co), seed + 1, 0.3f));
    auto& n = b.node("Conv", {in, name + "_w", name + "_b"}, {out}, name);
    OnnxBuilder::attr(n, "kernel_shape", std::vector<std::int64_t>{3, 3});
    OnnxBuilder::attr(n, "pads", std::vector<std::int64_t>{1, 1, 1, 1});
    OnnxBuilder::attr(n, "strides", std::vector<std::int64_t>{stride, stride});
    OnnxBuilder::attr(n, "group", std::int64_t{group});
  };
  conv("g2", "x", "t1", 8, 12, 2, 1, 1);
  b.node("Relu", {"t1"}, {"t2"}, "relu1");
  conv("g4", "t2", "t3", 12, 8, 4, 2, 3);
  b.node("Relu", {"t3"}, {"t4"}, "relu2");
  b.node("GlobalAveragePool", {"t4"}, {"y"}, "gap");
  const fs::path model = dir / "grouped.onnx";
  {
    std::ofstream f(model, std::ios::binary);
    REQUIRE(b.model.SerializeToOstream(&f));
  }
  std::vector<float> rows = random_values(8 * 800, 7, 60.0f);
  for (float& v : rows) v = std::min(std::abs(v), 255.0f);
  statiq::io::write_npy<float>(dir / "x.npy", {8, 8, 10, 10}, rows);

  for (const int weight_bits : {8, 4}) {  // 4: packed two to a byte on akida-v2
    INFO("weight bits " << weight_bits);
    statiq::codegen::GenerateOptions o;
    o.model = model;
    o.calib = dir / "x.npy";
    o.target = weight_bits == 8 ? "cpu-int8" : "akida-v2";
    o.policy = statiq::codegen::UnmappedPolicy::host;
    o.lower.weight_bits = weight_bits;
    o.output_dir = dir / ("out" + std::to_string(weight_bits));
    o.name = "grouped";
    (void)statiq::codegen::generate(o);
    CHECK(statiq::test::compile_and_self_test(o.output_dir, o.name) == "");
    CHECK_THAT(statiq::test::slurp(o.output_dir / "selftest.log"), Catch::Contains("bit-exact"));
    const std::string data = statiq::test::slurp(o.output_dir / "grouped_data.cpp");
    // rows, cols (taps x channels a group), segment (one tap), groups
    CHECK_THAT(data, Catch::Contains("statiq::WeightLayout{statiq::WeightOrder::oc16_k4, 12, 36, 4, 2}"));
    CHECK_THAT(data, Catch::Contains("statiq::WeightLayout{statiq::WeightOrder::oc16_k4, 8, 27, 3, 4}"));
    const nlohmann::json report = nlohmann::json::parse(statiq::test::slurp(o.output_dir / "grouped_report.json"));
    const char* const expected = statiq::kernels::isa == statiq::kernels::Isa::avx512_vnni ? "x86::grouped_conv2d (avx512_vnni)"
                                 : statiq::kernels::isa == statiq::kernels::Isa::avx2 ? "x86::avx2::grouped_conv2d (avx2)"
                                                                                      : "reference::conv2d";
    int grouped = 0;
    for (const auto& layer : report.at("layers"))
      if (layer.value("name", "") == "g2" || layer.value("name", "") == "g4") {
        CHECK(layer.at("kernel") == expected);
        CHECK(layer.at("weight_layout") == "oc16_k4");
        ++grouped;
      }
    CHECK(grouped == 2);
  }
}
