// tests/codegen/weight_sums_test.cpp — the per-channel weight sums the data translation unit carries
// (core/weight_sums.hpp; the fast kernels start each channel at bias - (x_zero_point + flip) * sum)
// equal sums computed here from the same model's weights in ONNX order: mnist8 generated for
// cpu-int8 with its QDQ export, whose int8 weight initializers ([O][I][kH][kW] for Conv,
// [units][inputs] for Gemm) are summed per output channel and matched against the emitted arrays.
#include <catch2/catch.hpp>

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "codegen/generate/generate.hpp"
#include "tests/support/files.hpp"

namespace fs = std::filesystem;
using namespace statiq::codegen;

namespace {

const fs::path shared = fs::path(STATIQ_SHARED_DIR);

// Each `<id>_weight_sums[n] = {...}` array of the data TU, in order.
std::vector<std::vector<std::int64_t>> emitted_sums(const std::string& data_tu) {
  std::vector<std::vector<std::int64_t>> all;
  const std::regex array(R"(const std::int32_t \w+_weight_sums\[(\d+)\] = \{([^}]*)\};)");
  const std::regex number(R"(-?\d+)");
  for (auto it = std::sregex_iterator(data_tu.begin(), data_tu.end(), array); it != std::sregex_iterator(); ++it) {
    std::vector<std::int64_t> sums;
    const std::string body = (*it)[2];
    for (auto n = std::sregex_iterator(body.begin(), body.end(), number); n != std::sregex_iterator(); ++n)
      sums.push_back(std::stoll(n->str()));
    // INT32_MIN is written as an expression (-2147483647 - 1); mnist8's sums are far from it
    REQUIRE(sums.size() == std::stoul((*it)[1]));
    all.push_back(sums);
  }
  return all;
}

// Per output channel (dim 0), the sum of every int8 weight initializer of the QDQ model.
std::vector<std::vector<std::int64_t>> onnx_sums(const fs::path& qdq) {
  onnx::ModelProto m;
  std::ifstream in(qdq, std::ios::binary);
  REQUIRE(m.ParseFromIstream(&in));
  std::vector<std::vector<std::int64_t>> all;
  for (const onnx::TensorProto& t : m.graph().initializer()) {
    if (t.data_type() != onnx::TensorProto::INT8 || t.dims_size() < 2) continue;  // zero points are 0-d or 1-d
    std::vector<std::int64_t> values;
    if (!t.raw_data().empty())
      for (const char c : t.raw_data()) values.push_back(static_cast<std::int8_t>(c));
    else
      for (const std::int32_t v : t.int32_data()) values.push_back(v);
    const auto channels = static_cast<std::size_t>(t.dims(0));
    REQUIRE(channels > 0);
    REQUIRE(values.size() % channels == 0);
    const std::size_t per_channel = values.size() / channels;
    std::vector<std::int64_t> sums(channels, 0);
    for (std::size_t c = 0; c < channels; ++c)
      for (std::size_t i = 0; i < per_channel; ++i) sums[c] += values[c * per_channel + i];
    all.push_back(sums);
  }
  return all;
}

}  // namespace

TEST_CASE("the data TU's weight sums equal the QDQ export's int8 weights summed per output channel",
          "[codegen][emit]") {
  statiq::test::ScratchDir dir("statiq_weight_sums");
  GenerateOptions o;
  o.model = shared / "models" / "mnist8" / "model.onnx";
  o.calib = shared / "models" / "mnist8" / "inputs.npy";
  o.target = "cpu-int8";
  o.name = "mnist8";
  o.output_dir = dir.path;
  o.golden = 1;
  o.qdq = dir.path / "mnist8_qdq.onnx";
  generate(o);

  auto emitted = emitted_sums(statiq::test::slurp(dir.path / "mnist8_data.cpp"));
  auto expected = onnx_sums(o.qdq);
  // Conv 8 and 16 filters, the MatMul's 10 units: matched as a set (layer names differ between
  // the two files; the channel counts and values identify each layer).
  REQUIRE(emitted.size() == 3);
  REQUIRE(expected.size() == 3);
  std::sort(emitted.begin(), emitted.end());
  std::sort(expected.begin(), expected.end());
  CHECK(emitted == expected);
  // Not all zero: the check above compares real sums.
  bool some_non_zero = false;
  for (const auto& s : expected)
    for (const std::int64_t v : s) some_non_zero = some_non_zero || v != 0;
  CHECK(some_non_zero);
}
