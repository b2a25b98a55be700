// tests/onnx_node/onnx_node_test.cpp — the ONNX backend node tests (Debian libonnx-testdata) through
// statiq: float ops through codegen's FloatExecutor, quantized ones through statiq's integer layers.
// Prints a table (test, path, result, reason) and the counts; the pass count is pinned.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <map>

#include <unistd.h>

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include "node_test.hpp"

using namespace statiq::onnx_node;
namespace ir = statiq::codegen::ir;

namespace {

// Node tests whose result differs from ONNX's reference for an explained reason that lies
// outside this suite (see README.md); they stay FAIL in the table but do not fail the CTest.
// A known failure that starts passing fails the test, so the list stays true.
const std::map<std::string, std::string> known_failures = {
    {"test_convtranspose_output_shape",
     "output_shape [10,8] is one row and column larger than the full ConvTranspose output (9x7); ONNX derives "
     "(negative) pads from it, the executor refuses it"},
};

// Pinned: a change in either count is a regression (or progress to record here and in README.md).
constexpr int expected_selected = 325;  // + 22 Resize, 8 ReduceMean, 3 Pad tests (the float executor runs them)
constexpr int expected_passes = 257;    // + Resize in mode nearest (7), ReduceMean (8), constant Pad (1)

}  // namespace

TEST_CASE("ONNX backend node tests through statiq", "[onnx_node]") {
#ifndef STATIQ_ONNX_NODE_DIR
  FAIL("libonnx-testdata is not installed (scripts/setup.sh installs it)");
#else
  const std::filesystem::path node_dir = STATIQ_ONNX_NODE_DIR;
  REQUIRE(std::filesystem::is_directory(node_dir));
  const std::vector<Result> results = run_all(node_dir);

  int passes = 0, failures = 0, unsupported = 0, explained = 0;
  fmt::print("{:<58} {:<5} {:<11} {}\n", "test", "path", "result", "reason");
  for (const auto& r : results) {
    const auto known = known_failures.find(r.test);
    std::string reason = r.reason;
    if (r.outcome == Outcome::fail && known != known_failures.end()) reason += " [known: " + known->second + "]";
    fmt::print("{:<58} {:<5} {:<11} {}\n", r.test, r.path, to_string(r.outcome), reason);
    if (r.outcome == Outcome::pass) ++passes;
    else if (r.outcome == Outcome::unsupported) ++unsupported;
    else if (known != known_failures.end()) ++explained;
    else ++failures;
  }
  fmt::print("onnx_node: {} selected, {} passed, {} unsupported, {} known failures\n", results.size(), passes,
             unsupported, explained);
  fmt::print("{} passed, {} failed\n", passes, failures + explained);
  std::fflush(stdout);

  for (const auto& r : results) {
    INFO(r.test << ": " << r.reason);
    const bool known = known_failures.count(r.test) != 0;
    if (r.outcome == Outcome::fail) CHECK(known);
    if (r.outcome == Outcome::pass) CHECK_FALSE(known);  // fixed: take it off the list
  }
  CHECK(int(results.size()) == expected_selected);
  CHECK(passes == expected_passes);
#endif
}

// --- the runner's own pieces, on hand-made data ----------------------------------------------

TEST_CASE("TensorProto reader: raw, typed fields, float16, bad sizes", "[onnx_node]") {
  onnx::TensorProto p;
  p.set_name("u8");
  p.set_data_type(onnx::TensorProto::UINT8);
  p.add_dims(3);
  p.set_raw_data(std::string("\x00\x80\xff", 3));
  TensorData t = tensor_from_proto(p);
  CHECK(t.dtype == ir::DataType::uint8);
  CHECK(t.i == std::vector<std::int64_t>{0, 128, 255});

  onnx::TensorProto s8;
  s8.set_data_type(onnx::TensorProto::INT8);
  s8.add_dims(2);
  s8.add_int32_data(-128);
  s8.add_int32_data(127);
  CHECK(tensor_from_proto(s8).i == std::vector<std::int64_t>{-128, 127});

  onnx::TensorProto f;
  f.set_data_type(onnx::TensorProto::FLOAT);
  f.add_dims(1);
  f.add_dims(2);
  f.set_raw_data(std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0", 8));  // 1.0f, -2.0f little-endian
  t = tensor_from_proto(f);
  CHECK(t.dims == ir::Dims{1, 2});
  CHECK(t.f == std::vector<double>{1.0, -2.0});

  onnx::TensorProto h;
  h.set_data_type(onnx::TensorProto::FLOAT16);
  h.add_dims(3);
  h.set_raw_data(std::string("\x00\x3c\x00\xc0\x01\x00", 6));  // 1.0, -2.0, the smallest subnormal 2^-24
  CHECK(tensor_from_proto(h).f == std::vector<double>{1.0, -2.0, std::ldexp(1.0, -24)});

  onnx::TensorProto bad;
  bad.set_data_type(onnx::TensorProto::INT64);
  bad.add_dims(2);
  bad.add_int64_data(1);
  CHECK_THROWS_WITH(tensor_from_proto(bad), Catch::Contains("1 values for dims [2]"));
}

TEST_CASE("compare: ONNX's rtol/atol, NaN, exact integers, shapes", "[onnx_node]") {
  TensorData e;
  e.name = "y";
  e.dtype = ir::DataType::float32;
  e.dims = {3};
  e.f = {1000.0, 0.0, NAN};
  // |a - e| <= 1e-7 + 1e-3 * |e|: 1 away from 1000 is within, 1.01 is not; 0 allows 1e-7 only.
  CHECK(compare(e, {3}, {1001.0, 1e-7, NAN}, {}, Tolerance{}).empty());
  CHECK_FALSE(compare(e, {3}, {1001.01, 0.0, NAN}, {}, Tolerance{}).empty());
  CHECK_FALSE(compare(e, {3}, {1000.0, 2e-7, NAN}, {}, Tolerance{}).empty());
  CHECK_FALSE(compare(e, {3}, {1000.0, 0.0, 0.0}, {}, Tolerance{}).empty());
  CHECK_FALSE(compare(e, {1, 3}, {1000.0, 0.0, NAN}, {}, Tolerance{}).empty());

  TensorData q;
  q.name = "q";
  q.dtype = ir::DataType::uint8;
  q.dims = {2};
  q.i = {7, 255};
  CHECK(compare(q, {2}, {}, {7, 255}, Tolerance{}).empty());
  CHECK(compare(q, {2}, {}, {7, 254}, Tolerance{}) == "'q'[1] = 254, expected 255");
}

namespace {

void write_tensor(const std::filesystem::path& file, const std::string& name, int type, std::vector<std::int64_t> dims,
                  const std::vector<double>& values) {
  onnx::TensorProto p;
  p.set_name(name);
  p.set_data_type(type);
  for (auto d : dims) p.add_dims(d);
  for (double v : values) {
    if (type == onnx::TensorProto::FLOAT) p.add_float_data(static_cast<float>(v));
    else p.add_int32_data(static_cast<std::int32_t>(v));
  }
  std::ofstream out(file, std::ios::binary);
  REQUIRE(p.SerializeToOstream(&out));
}

}  // namespace

// The ONNX test_qlinearconv has one channel and a 1x1 kernel, so it cannot catch a wrong
// NCHW <-> NHWC or OIHW -> OHWI transposition, per-channel scales or the uint8 weight shift.
// This one can: 2 input channels, 2 filters with their own w_scale, a 2x3 kernel, pads,
// a non-square input, uint8 weights with zero point 3. Expected values: a naive NCHW loop in
// double, written independently here, with power-of-two scales so the multipliers are exact.
TEST_CASE("QLinearConv mapping on a hand-made 2-channel test", "[onnx_node]") {
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("statiq_onnx_node_{}", ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "test_data_set_0");

  const int C = 2, H = 3, W = 4, M = 2, KH = 2, KW = 3;
  const int pt = 1, pl = 0, pb = 0, pr = 1;  // pads [top, left, bottom, right]
  const int OH = (H + pt + pb - KH) + 1, OW = (W + pl + pr - KW) + 1;
  std::vector<double> x(C * H * W), w(M * C * KH * KW), bias{5, -7};
  for (std::size_t k = 0; k < x.size(); ++k) x[k] = double((k * 37 + 11) % 256);
  for (std::size_t k = 0; k < w.size(); ++k) w[k] = double((k * 53 + 200) % 256);
  const double x_scale = 0.5, y_scale = 512.0, w_scale[2] = {0.25, 0.125};
  const int x_zp = 100, w_zp = 3, y_zp = 128;

  onnx::ModelProto m;
  m.set_ir_version(7);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("hand_qlinearconv");
  auto* n = g->add_node();
  n->set_op_type("QLinearConv");
  const char* names[] = {"x", "x_scale", "x_zero_point", "w", "w_scale", "w_zero_point", "y_scale", "y_zero_point", "B"};
  for (const char* name : names) {
    n->add_input(name);
    g->add_input()->set_name(name);
  }
  n->add_output("y");
  auto* pads = n->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int p : {pt, pl, pb, pr}) pads->add_ints(p);
  {
    std::ofstream out(dir / "model.onnx", std::ios::binary);
    REQUIRE(m.SerializeToOstream(&out));
  }
  const auto ds = dir / "test_data_set_0";
  using TP = onnx::TensorProto;
  write_tensor(ds / "input_0.pb", "x", TP::UINT8, {1, C, H, W}, x);
  write_tensor(ds / "input_1.pb", "x_scale", TP::FLOAT, {}, {x_scale});
  write_tensor(ds / "input_2.pb", "x_zero_point", TP::UINT8, {}, {double(x_zp)});
  write_tensor(ds / "input_3.pb", "w", TP::UINT8, {M, C, KH, KW}, w);
  write_tensor(ds / "input_4.pb", "w_scale", TP::FLOAT, {M}, {w_scale[0], w_scale[1]});
  write_tensor(ds / "input_5.pb", "w_zero_point", TP::UINT8, {M}, {double(w_zp), double(w_zp)});
  write_tensor(ds / "input_6.pb", "y_scale", TP::FLOAT, {}, {y_scale});
  write_tensor(ds / "input_7.pb", "y_zero_point", TP::UINT8, {}, {double(y_zp)});
  write_tensor(ds / "input_8.pb", "B", TP::INT32, {M}, bias);

  std::vector<double> y;
  int clipped = 0;
  for (int o = 0; o < M; ++o)
    for (int oh = 0; oh < OH; ++oh)
      for (int ow = 0; ow < OW; ++ow) {
        double acc = bias[std::size_t(o)];
        for (int c = 0; c < C; ++c)
          for (int kh = 0; kh < KH; ++kh)
            for (int kw = 0; kw < KW; ++kw) {
              const int ih = oh - pt + kh, iw = ow - pl + kw;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              acc += (x[std::size_t((c * H + ih) * W + iw)] - x_zp) *
                     (w[std::size_t(((o * C + c) * KH + kh) * KW + kw)] - w_zp);
            }
        const double q = std::nearbyint(acc * x_scale * w_scale[o] / y_scale) + y_zp;
        clipped += q < 0 || q > 255;
        y.push_back(std::clamp(q, 0.0, 255.0));
      }
  CHECK(clipped < int(y.size()) / 2);  // the data exercises the arithmetic, not only saturation
  write_tensor(ds / "output_0.pb", "y", TP::UINT8, {1, M, OH, OW}, y);

  const Result r = run_quantized_test(dir);
  INFO(r.reason);
  CHECK(r.outcome == Outcome::pass);

  // One wrong expected value must be caught.
  y[3] = y[3] == 0 ? 1 : y[3] - 1;
  write_tensor(ds / "output_0.pb", "y", TP::UINT8, {1, M, OH, OW}, y);
  CHECK(run_quantized_test(dir).outcome == Outcome::fail);

  // Per-channel weight zero points are not a statiq layer: unsupported, not approximated.
  write_tensor(ds / "input_5.pb", "w_zero_point", TP::UINT8, {M}, {3.0, 4.0});
  const Result pc = run_quantized_test(dir);
  CHECK(pc.outcome == Outcome::unsupported);
  CHECK_THAT(pc.reason, Catch::Contains("one zero point per tensor"));
  std::filesystem::remove_all(dir);
}
