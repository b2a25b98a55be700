// LookupTable (LeakyRelu, Sigmoid, Tanh, HardSigmoid, HardSwish) against onnxruntime on every input
// code: one QDQ model with a DQ -> op -> Q branch per case, fed the 256 codes, run by onnxruntime-node
// (optimisation "all": LeakyRelu and Sigmoid on uint8 become QLinearLeakyRelu / QLinearSigmoid tables;
// the others, and int8 on x86, run in float between DQ and Q). Each branch's 256 results must be the
// table statiq's generator builds (codegen/quantize/lookup_table.hpp), entry for entry.
#include <catch2/catch.hpp>

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "codegen/quantize/lookup_table.hpp"
#include "statiq/io/npy.hpp"
#include "tests/codegen/onnx_builder.hpp"
#include "tests/ort/ort_oracle.hpp"
#include "tests/support/files.hpp"

namespace fs = std::filesystem;
using namespace statiq;
using namespace statiq::codegen;

namespace {

struct Case {
  LookupFunction function;
  float alpha, beta;
  TensorQuantization x, y;
};

std::string op_of(LookupFunction f) { return std::string(lookup_function_op(f)); }

// The output quantization a calibration of f over the input's codes would give (range widened to 0).
TensorQuantization output_of(const Case& c) {
  float lo = 0.0f, hi = 0.0f;
  for (int b = 0; b < 256; ++b) {
    const int code = c.x.is_signed ? int(std::int8_t(std::uint8_t(b))) : b;
    const float v = onnxruntime_float_function(c.function, c.alpha, c.beta, c.x.scale * float(code - c.x.zero_point));
    lo = std::min(lo, v), hi = std::max(hi, v);
  }
  TensorQuantization y;
  y.is_signed = c.x.is_signed;
  y.scale = (hi - lo) / 255.0f;
  const int qlo = y.is_signed ? -128 : 0;
  y.zero_point = std::clamp(int(std::nearbyint(float(qlo) - lo / y.scale)), qlo, qlo + 255);
  return y;
}

std::vector<Case> cases(bool is_signed) {
  std::vector<Case> out;
  const int zero = is_signed ? 0 : 128;
  // Input scales and zero points of several kinds: round, awkward, off-centre, mostly positive.
  const TensorQuantization xs[] = {{0.05f, zero, 8, is_signed}, {0.0234567f, zero - 31, 8, is_signed},
                                   {0.1371f, zero + 57, 8, is_signed}, {0.0078125f, is_signed ? -128 : 0, 8, is_signed}};
  const LookupFunction fs[] = {LookupFunction::leaky_relu, LookupFunction::sigmoid, LookupFunction::tanh,
                               LookupFunction::hard_sigmoid, LookupFunction::hard_swish};
  for (const TensorQuantization& x : xs)
    for (LookupFunction f : fs) {
      Case c{f, 0.0f, 0.0f, x, {}};
      if (f == LookupFunction::leaky_relu) c.alpha = out.size() % 2 ? 0.1f : 0.01f;
      if (f == LookupFunction::hard_sigmoid) c.alpha = 0.2f, c.beta = 0.5f;
      c.y = output_of(c);
      out.push_back(c);
    }
  // Max, Min, Add, Sub (both ways), Mul, Div with a constant, on the awkward input scale: constants
  // that are not multiples of the step, so the float operation rounds.
  const LookupFunction with_constant[] = {LookupFunction::max_constant, LookupFunction::min_constant,
                                          LookupFunction::add_constant, LookupFunction::sub_constant,
                                          LookupFunction::constant_sub, LookupFunction::mul_constant,
                                          LookupFunction::div_constant};
  for (LookupFunction f : with_constant)
    for (float constant : {0.3137f, -0.7071f, 2.71828f}) {
      Case c{f, constant, 0.0f, xs[1], {}};
      c.y = output_of(c);
      out.push_back(c);
    }
  return out;
}

void float_attribute(onnx::NodeProto* n, const char* name, float v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}

// One branch per case; `hard_swish_op`: HardSwish as the opset-14 operator, else as the QDQ export
// writes it (opset 13: HardSigmoid(1/6, 1/2) then Mul, ONNX's definition of HardSwish).
onnx::ModelProto model_of(const std::vector<Case>& cs, bool is_signed, bool hard_swish_op) {
  const int q = is_signed ? onnx::TensorProto::INT8 : onnx::TensorProto::UINT8;
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.add_opset_import()->set_version(hard_swish_op ? 14 : 13);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name("lookup_tables");
  auto node = [&](const std::string& op, std::vector<std::string> in, const std::string& out) {
    onnx::NodeProto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(out + "_" + op);
    for (auto& i : in) n->add_input(i);
    n->add_output(out);
    return n;
  };
  auto io = [&](onnx::ValueInfoProto* v, const std::string& name) {
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(q);
    for (auto d : {1, 1, 16, 16}) t->mutable_shape()->add_dim()->set_dim_value(d);
  };
  io(g->add_input(), "x");
  for (std::size_t k = 0; k < cs.size(); ++k) {
    const Case& c = cs[k];
    const std::string p = fmt::format("c{}_", k);
    statiq::test::scalar_initializer(g, p + "xs", onnx::TensorProto::FLOAT, c.x.scale, 0);
    statiq::test::scalar_initializer(g, p + "xz", q, 0, c.x.zero_point);
    statiq::test::scalar_initializer(g, p + "ys", onnx::TensorProto::FLOAT, c.y.scale, 0);
    statiq::test::scalar_initializer(g, p + "yz", q, 0, c.y.zero_point);
    node("DequantizeLinear", {"x", p + "xs", p + "xz"}, p + "xf");
    if (c.function == LookupFunction::hard_swish && !hard_swish_op) {
      onnx::NodeProto* hs = node("HardSigmoid", {p + "xf"}, p + "gate");
      float_attribute(hs, "alpha", 1.0f / 6.0f);
      float_attribute(hs, "beta", 0.5f);
      node("Mul", {p + "xf", p + "gate"}, p + "yf");
    } else if (c.function >= LookupFunction::max_constant) {
      statiq::test::scalar_initializer(g, p + "c", onnx::TensorProto::FLOAT, c.alpha, 0);
      if (c.function == LookupFunction::constant_sub) node(op_of(c.function), {p + "c", p + "xf"}, p + "yf");
      else node(op_of(c.function), {p + "xf", p + "c"}, p + "yf");
    } else {
      onnx::NodeProto* n = node(op_of(c.function), {p + "xf"}, p + "yf");
      if (c.function == LookupFunction::leaky_relu || c.function == LookupFunction::hard_sigmoid)
        float_attribute(n, "alpha", c.alpha);
      if (c.function == LookupFunction::hard_sigmoid) float_attribute(n, "beta", c.beta);
    }
    node("QuantizeLinear", {p + "yf", p + "ys", p + "yz"}, p + "y");
    io(g->add_output(), p + "y");
  }
  return m;
}

// Mismatching entries per case between onnxruntime and statiq's tables.
std::vector<std::size_t> run(bool is_signed, bool hard_swish_op, const std::vector<Case>& cs, std::string* optimized) {
  statiq::test::ScratchDir dir(fmt::format("statiq_ort_lut_{}_{}", int(is_signed), int(hard_swish_op)));
  {
    std::ofstream f(dir.path / "m.onnx", std::ios::binary);
    REQUIRE(model_of(cs, is_signed, hard_swish_op).SerializeToOstream(&f));
  }
  std::vector<std::int32_t> codes(256);
  for (int b = 0; b < 256; ++b) codes[std::size_t(b)] = is_signed ? int(std::int8_t(std::uint8_t(b))) : b;
  statiq::io::write_npy(dir.path / "x.npy", {std::size_t(1), std::size_t(1), std::size_t(16), std::size_t(16)},
                        std::span<const std::int32_t>(codes));
  statiq::test::run_ort(dir.path / "m.onnx", dir.path / "x.npy",
                        fmt::format("--dtype {} --out-dir '{}' --optimized-model '{}'", is_signed ? "int8" : "uint8",
                                    dir.path.string(), (dir.path / "opt.onnx").string()),
                        dir.path / "log");
  if (optimized) *optimized = statiq::test::slurp(dir.path / "opt.onnx");
  std::vector<std::size_t> bad;
  for (std::size_t k = 0; k < cs.size(); ++k) {
    const std::vector<std::int32_t> y =
        statiq::io::read_npy(dir.path / statiq::test::ort_file_name(fmt::format("c{}_y", k))).as<std::int32_t>();
    const LookupTableAttributes a{.shape = {16, 16, 1}, .function = cs[k].function, .alpha = cs[k].alpha, .beta = cs[k].beta};
    const std::vector<std::int32_t> table = qlinear_lookup_table(a, cs[k].x, cs[k].y);
    std::vector<std::int32_t> expected(256);
    for (int b = 0; b < 256; ++b) expected[std::size_t(b)] = table[std::size_t(std::uint8_t(codes[std::size_t(b)]))];
    bad.push_back(statiq::test::mismatches(y, expected));
  }
  return bad;
}

}  // namespace

TEST_CASE("LookupTable: every input code of LeakyRelu, Sigmoid, Tanh, HardSigmoid, HardSwish and of Max, Min, Add, "
          "Sub, Mul, Div with a constant equals onnxruntime",
          "[ort][lookup_table]") {
  for (const bool is_signed : {false, true}) {
    const std::vector<Case> cs = cases(is_signed);
    std::string optimized;
    const std::vector<std::size_t> bad = run(is_signed, false, cs, &optimized);
    for (std::size_t k = 0; k < cs.size(); ++k) {
      INFO((is_signed ? "int8 " : "uint8 ") << op_of(cs[k].function) << " (constant/alpha " << cs[k].alpha << ") x scale " << cs[k].x.scale << " zp "
                                            << cs[k].x.zero_point << ", y scale " << cs[k].y.scale << " zp "
                                            << cs[k].y.zero_point);
      CHECK(bad[k] == 0);
    }
    // uint8 LeakyRelu and Sigmoid ran as onnxruntime's own tables (the QDQ fusion), so the
    // comparison is with QlinearBuildLookupTable, not only with float ops.
    if (!is_signed) {
      CHECK(optimized.find("QLinearLeakyRelu") != std::string::npos);
      CHECK(optimized.find("QLinearSigmoid") != std::string::npos);
    }
  }
}

TEST_CASE("LookupTable: HardSwish as onnxruntime's opset-14 operator gives the same codes as its definition",
          "[ort][lookup_table]") {
  std::vector<Case> cs;
  for (const Case& c : cases(false))
    if (c.function == LookupFunction::hard_swish) cs.push_back(c);
  const std::vector<std::size_t> bad = run(false, true, cs, nullptr);
  for (std::size_t k = 0; k < cs.size(); ++k) {
    INFO("x scale " << cs[k].x.scale << " zp " << cs[k].x.zero_point);
    CHECK(bad[k] == 0);
  }
}
