// codegen/export/dynamic_export.cpp — see dynamic_export.hpp. The node pattern is the one
// onnxruntime.quantization.quantize_dynamic emits for MatMul (operators/matmul.py, MatMulInteger):
// onnxruntime's optimizer (level extended/all) fuses it into DynamicQuantizeMatMul / MatMulIntegerToFloat.
#include "codegen/export/dynamic_export.hpp"

#include <onnx/onnx_pb.h>

#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>

#include "statiq/layers/dynamic.hpp"

namespace statiq::codegen {
namespace {

using onnx::TensorProto;

const TensorProto* initializer(const onnx::GraphProto& g, const std::string& name) {
  for (const auto& t : g.initializer())
    if (t.name() == name) return &t;
  return nullptr;
}

std::vector<float> floats_of(const TensorProto& t) {
  if (t.data_type() != TensorProto::FLOAT) throw std::runtime_error("dynamic export: '" + t.name() + "' is not float");
  if (t.float_data_size() > 0) return {t.float_data().begin(), t.float_data().end()};
  std::vector<float> v(t.raw_data().size() / sizeof(float));
  std::memcpy(v.data(), t.raw_data().data(), v.size() * sizeof(float));
  return v;
}

const onnx::NodeProto* producer(const onnx::GraphProto& g, const std::string& tensor) {
  for (const auto& n : g.node())
    for (const auto& o : n.output())
      if (o == tensor) return &n;
  return nullptr;
}

std::vector<const onnx::NodeProto*> consumers(const onnx::GraphProto& g, const std::string& tensor) {
  std::vector<const onnx::NodeProto*> r;
  for (const auto& n : g.node())
    for (const auto& i : n.input())
      if (i == tensor) r.push_back(&n);
  return r;
}

// B's float data: an initializer, or a Reshape of one (the row-major data is unchanged by Reshape).
std::optional<std::vector<float>> constant_weights(const onnx::GraphProto& g, const std::string& b) {
  if (const TensorProto* t = initializer(g, b)) return floats_of(*t);
  const onnx::NodeProto* p = producer(g, b);
  if (p && p->op_type() == "Reshape" && p->input_size() >= 1)
    if (const TensorProto* t = initializer(g, p->input(0))) return floats_of(*t);
  return std::nullopt;
}

void add_scalar(onnx::GraphProto& g, const std::string& name, int type, const void* data, std::size_t bytes) {
  TensorProto* t = g.add_initializer();
  t->set_name(name);
  t->set_data_type(type);
  t->set_raw_data(std::string(static_cast<const char*>(data), bytes));
}

onnx::NodeProto make_node(const std::string& op, const std::string& name, std::vector<std::string> in,
                          std::vector<std::string> out) {
  onnx::NodeProto n;
  n.set_op_type(op);
  n.set_name(name);
  for (auto& s : in) n.add_input(s);
  for (auto& s : out) n.add_output(s);
  return n;
}

}  // namespace

DynamicExport make_dynamic(onnx::ModelProto& model) {
  onnx::GraphProto& g = *model.mutable_graph();
  DynamicExport result;
  std::vector<onnx::NodeProto> nodes;
  for (const auto& node : g.node()) {
    if (node.op_type() != "MatMul" || !node.domain().empty() || node.input_size() != 2) {
      nodes.push_back(node);
      continue;
    }
    const auto w = constant_weights(g, node.input(1));
    if (!w) {
      nodes.push_back(node);
      continue;
    }
    // N from B's data and the Add bias, or from B's initializer dims.
    DynamicMatMul d;
    d.node = node.name().empty() ? node.output(0) : node.name();
    d.input = node.input(0);
    d.output = node.output(0);
    const auto cons = consumers(g, d.output);
    if (cons.size() == 1 && cons[0]->op_type() == "Add") {
      const auto& add = *cons[0];
      const std::string other = add.input(0) == d.output ? add.input(1) : add.input(0);
      if (const TensorProto* b = initializer(g, other)) {
        d.bias = floats_of(*b);
        d.bias_output = add.output(0);
      }
    }
    if (!d.bias.empty()) {
      d.n = d.bias.size();
    } else if (const TensorProto* t = initializer(g, node.input(1)); t && t->dims_size() == 2) {
      d.n = std::size_t(t->dims(1));
    } else {
      throw std::runtime_error("dynamic export: MatMul '" + d.node + "': cannot tell N (no bias, B not a 2-D initializer)");
    }
    d.k = w->size() / d.n;
    d.weights.resize(w->size());
    d.weight_scale = statiq::quantize_dynamic_weights(*w, d.weights).scale;

    const std::string b = node.input(1);
    TensorProto* wq = g.add_initializer();
    wq->set_name(b + "_quantized");
    wq->set_data_type(TensorProto::INT8);
    wq->add_dims(std::int64_t(d.k));
    wq->add_dims(std::int64_t(d.n));
    wq->set_raw_data(std::string(reinterpret_cast<const char*>(d.weights.data()), d.weights.size()));
    add_scalar(g, b + "_scale", TensorProto::FLOAT, &d.weight_scale, sizeof(float));
    const std::int8_t zero = 0;
    add_scalar(g, b + "_zero_point", TensorProto::INT8, &zero, 1);

    const std::string x = d.input;
    nodes.push_back(make_node("DynamicQuantizeLinear", x + "_QuantizeLinear", {x},
                              {x + "_quantized", x + "_scale", x + "_zero_point"}));
    nodes.push_back(make_node("MatMulInteger", d.node + "_quant",
                              {x + "_quantized", b + "_quantized", x + "_zero_point", b + "_zero_point"},
                              {d.output + "_quantized"}));
    onnx::NodeProto cast = make_node("Cast", d.node + "_quant_output_scale_mul_cast", {d.output + "_quantized"},
                                     {d.output + "_quantized_cast_output"});
    auto* to = cast.add_attribute();
    to->set_name("to");
    to->set_type(onnx::AttributeProto::INT);
    to->set_i(TensorProto::FLOAT);
    nodes.push_back(cast);
    nodes.push_back(make_node("Mul", d.node + "_quant_scales_mul", {x + "_scale", b + "_scale"},
                              {d.node + "_quant_scales_mul:0"}));
    nodes.push_back(make_node("Mul", d.node + "_quant_output_scale_mul",
                              {d.output + "_quantized_cast_output", d.node + "_quant_scales_mul:0"}, {d.output}));
    result.matmuls.push_back(std::move(d));
  }
  if (result.matmuls.empty()) throw std::runtime_error("dynamic export: no MatMul with constant weights");
  g.clear_node();
  for (auto& n : nodes) *g.add_node() = std::move(n);
  for (auto& op : *model.mutable_opset_import())
    if (op.domain().empty() && op.version() < 11) op.set_version(11);
  return result;
}

DynamicExport write_dynamic_model(const std::filesystem::path& in, const std::filesystem::path& out) {
  onnx::ModelProto model;
  {
    std::ifstream f(in, std::ios::binary);
    if (!f || !model.ParseFromIstream(&f)) throw std::runtime_error("dynamic export: cannot read " + in.string());
  }
  DynamicExport r = make_dynamic(model);
  std::ofstream f(out, std::ios::binary);
  if (!f || !model.SerializeToOstream(&f)) throw std::runtime_error("dynamic export: cannot write " + out.string());
  return r;
}

}  // namespace statiq::codegen
