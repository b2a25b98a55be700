// The Elementwise layer's Mul, Max, Min and Sub (statiq/layers/elementwise.hpp) against onnxruntime
// on every pair of input codes: x holds two 256x256 planes (plane a: the row index, plane b: the
// column index), split and combined in one QDQ graph per parameter set. onnxruntime fuses DQ, DQ ->
// Mul -> Q into QLinearMul (uint8 and int8), whose integers differ from the plain float form
// Q(DQ(a) * DQ(b)) somewhere (the test tells the two apart); it has no QLinear kernel for Max, Min
// and Sub (the optimized model must keep them float between DQ and Q).
#include <catch2/catch.hpp>

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "statiq/layers/elementwise.hpp"
#include "statiq/core/qint.hpp"
#include "statiq/io/npy.hpp"
#include "tests/codegen/onnx_builder.hpp"
#include "tests/ort/ort_oracle.hpp"
#include "tests/support/files.hpp"

namespace fs = std::filesystem;
using namespace statiq;

namespace {

struct Params {
  float sa;
  int za;
  float sb;
  int zb;
  float sy;
  int zy;
};

}  // namespace

TEST_CASE("Elementwise Mul, Max, Min, Sub: every pair of input codes equals onnxruntime's QDQ form (uint8 and int8)",
          "[ort][elementwise]") {
  for (const ElementwiseOp op : {ElementwiseOp::mul, ElementwiseOp::max, ElementwiseOp::min, ElementwiseOp::sub})
  for (const bool is_signed : {false, true}) {
    const std::string op_type(elementwise_op_name(op));
    const int z = is_signed ? 0 : 128;
    // Round and awkward scales, zero points off the middle, products that saturate both ways.
    const std::vector<Params> ps = {{0.05f, z, 0.02f, z, 0.01f, z},
                                    {0.0234567f, z - 31, 0.0173f, z + 57, 0.00731f, z + 11},
                                    {0.1371f, z + 20, 0.0078125f, is_signed ? -128 : 0, 0.0421f, z - 90},
                                    {0.0031f, z, 0.2f, z - 100, 0.00123f, z}};
    const int q = is_signed ? onnx::TensorProto::INT8 : onnx::TensorProto::UINT8;
    onnx::ModelProto m;
    m.set_ir_version(7);
    m.add_opset_import()->set_version(13);
    onnx::GraphProto* g = m.mutable_graph();
    g->set_name("elementwise");
    auto io = [&](onnx::ValueInfoProto* v, const std::string& name, std::int64_t planes) {
      v->set_name(name);
      auto* t = v->mutable_type()->mutable_tensor_type();
      t->set_elem_type(q);
      for (auto d : {std::int64_t{1}, planes, std::int64_t{256}, std::int64_t{256}}) t->mutable_shape()->add_dim()->set_dim_value(d);
    };
    auto node = [&](const std::string& op, std::vector<std::string> in, std::vector<std::string> out) {
      onnx::NodeProto* n = g->add_node();
      n->set_op_type(op);
      n->set_name(out[0] + "_" + op);
      for (auto& i : in) n->add_input(i);
      for (auto& o : out) n->add_output(o);
      return n;
    };
    io(g->add_input(), "x", 2);
    auto* split = node("Split", {"x"}, {"a", "b"});
    auto* axis = split->add_attribute();
    axis->set_name("axis");
    axis->set_type(onnx::AttributeProto::INT);
    axis->set_i(1);
    for (std::size_t k = 0; k < ps.size(); ++k) {
      const Params& p = ps[k];
      const std::string c = fmt::format("c{}_", k);
      statiq::test::scalar_initializer(g, c + "sa", onnx::TensorProto::FLOAT, p.sa, 0);
      statiq::test::scalar_initializer(g, c + "za", q, 0, p.za);
      statiq::test::scalar_initializer(g, c + "sb", onnx::TensorProto::FLOAT, p.sb, 0);
      statiq::test::scalar_initializer(g, c + "zb", q, 0, p.zb);
      statiq::test::scalar_initializer(g, c + "sy", onnx::TensorProto::FLOAT, p.sy, 0);
      statiq::test::scalar_initializer(g, c + "zy", q, 0, p.zy);
      node("DequantizeLinear", {"a", c + "sa", c + "za"}, {c + "af"});
      node("DequantizeLinear", {"b", c + "sb", c + "zb"}, {c + "bf"});
      node(op_type, {c + "af", c + "bf"}, {c + "yf"});
      node("QuantizeLinear", {c + "yf", c + "sy", c + "zy"}, {c + "y"});
      io(g->add_output(), c + "y", 1);
    }
    const statiq::test::ScratchDir dir(fmt::format("statiq_ort_elementwise_{}_{}", op_type, int(is_signed)));
    {
      std::ofstream f(dir.path / "m.onnx", std::ios::binary);
      REQUIRE(m.SerializeToOstream(&f));
    }
    auto code = [&](int i) { return is_signed ? i - 128 : i; };
    std::vector<std::int32_t> x(2 * 256 * 256);
    for (int r = 0; r < 256; ++r)
      for (int col = 0; col < 256; ++col) {
        x[std::size_t(r * 256 + col)] = code(r);
        x[std::size_t(65536 + r * 256 + col)] = code(col);
      }
    statiq::io::write_npy(dir.path / "x.npy", {std::size_t(1), std::size_t(2), std::size_t(256), std::size_t(256)},
                          std::span<const std::int32_t>(x));
    statiq::test::run_ort(dir.path / "m.onnx", dir.path / "x.npy",
                          fmt::format("--dtype {} --out-dir '{}' --optimized-model '{}'", is_signed ? "int8" : "uint8",
                                      dir.path.string(), (dir.path / "opt.onnx").string()),
                          dir.path / "log");
    const std::string optimized = statiq::test::slurp(dir.path / "opt.onnx");
    INFO(op_type);
    if (op == ElementwiseOp::mul) CHECK(optimized.find("QLinearMul") != std::string::npos);
    else CHECK(optimized.find("QLinear") == std::string::npos);  // no fused kernel: float between DQ and Q
    std::size_t float_form_differs = 0;
    for (std::size_t k = 0; k < ps.size(); ++k) {
      const Params& p = ps[k];
      const std::vector<std::int32_t> ort =
          statiq::io::read_npy(dir.path / statiq::test::ort_file_name(fmt::format("c{}_y", k))).as<std::int32_t>();
      // The layer itself, as the generated engine runs it (its own compute over the two planes).
      const arith::output_bounds bounds{qmin(8, is_signed), qmax(8, is_signed)};
      const ElementwiseParams params{
          .mul = arith::make_qlinear_mul({p.sa, p.za}, {p.sb, p.zb}, {p.sy, p.zy}, bounds),
          .qdq = arith::make_qdq_elementwise({p.sa, p.za}, {p.sb, p.zb}, {p.sy, p.zy}, bounds)};
      const ElementwiseAttributes attributes{.op = op, .shape = {256, 256, 1}};
      std::vector<std::int32_t> ours(65536);
      compute(attributes, x.data(), x.data() + 65536, params, ours.data());
      INFO((is_signed ? "int8" : "uint8") << " parameter set " << k);
      CHECK(statiq::test::mismatches(ort, ours) == 0);
      // The plain float form, written here from the ONNX definitions (double where it is exact).
      std::size_t saturated = 0;
      for (int i = 0; i < 65536; ++i) {
        const float fa = p.sa * float(x[std::size_t(i)] - p.za), fb = p.sb * float(x[std::size_t(65536 + i)] - p.zb);
        const float r = op == ElementwiseOp::mul ? fa * fb
                        : op == ElementwiseOp::max ? (fa > fb ? fa : fb)
                        : op == ElementwiseOp::min ? (fa < fb ? fa : fb)
                                                    : fa - fb;
        const std::int32_t plain = std::clamp(int(std::nearbyint(r / p.sy)) + p.zy, qmin(8, is_signed), qmax(8, is_signed));
        float_form_differs += plain != ours[std::size_t(i)];
        saturated += ort[std::size_t(i)] == qmin(8, is_signed) || ort[std::size_t(i)] == qmax(8, is_signed);
      }
      CHECK(saturated < 65536);  // the parameter set exercises more than the bounds
    }
    if (op == ElementwiseOp::mul) CHECK(float_form_differs > 0);
    else CHECK(float_form_differs == 0);  // Max, Min, Sub are exactly the float form
  }
}
