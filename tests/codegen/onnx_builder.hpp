// tests/codegen/onnx_builder.hpp — builds small ONNX ModelProto graphs in C++ for the loader and
// executor tests (hand-made graphs with hand-computed expectations).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

namespace statiq::test {

// n floats drawn uniformly from [lo, hi) by a seeded generator: weights and inputs of test graphs.
inline std::vector<float> uniform_values(std::size_t n, unsigned seed, float lo, float hi) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(gen);
  return v;
}

struct OnnxBuilder {
  onnx::ModelProto model;
  onnx::GraphProto* graph;

  explicit OnnxBuilder(std::int64_t opset = 13, std::int64_t ir_version = 7) : graph(model.mutable_graph()) {
    model.set_ir_version(ir_version);
    model.set_producer_name("statiq tests");
    auto* op = model.add_opset_import();
    op->set_domain("");
    op->set_version(opset);
    graph->set_name("test_graph");
  }

  static void set_type(onnx::ValueInfoProto* vi, const std::string& name, const std::vector<std::int64_t>& shape,
                       int elem_type) {
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elem_type);
    auto* s = tt->mutable_shape();
    for (auto d : shape) {
      auto* dim = s->add_dim();
      if (d >= 0) dim->set_dim_value(d);
    }
  }

  OnnxBuilder& input(const std::string& name, const std::vector<std::int64_t>& shape,
                     int elem_type = onnx::TensorProto::FLOAT) {
    set_type(graph->add_input(), name, shape, elem_type);
    return *this;
  }
  // The ONNX checker wants a shape on every graph output: -1 declares a dimension unknown (left
  // to shape inference); a known one is checked by strict shape inference against what it infers.
  OnnxBuilder& output(const std::string& name, const std::vector<std::int64_t>& shape,
                      int elem_type = onnx::TensorProto::FLOAT) {
    auto* vi = graph->add_output();
    set_type(vi, name, shape, elem_type);
    return *this;
  }
  OnnxBuilder& initializer(const std::string& name, const std::vector<std::int64_t>& dims,
                           const std::vector<float>& values) {
    auto* t = graph->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (auto d : dims) t->add_dims(d);
    for (float v : values) t->add_float_data(v);
    return *this;
  }
  OnnxBuilder& initializer_i64(const std::string& name, const std::vector<std::int64_t>& dims,
                               const std::vector<std::int64_t>& values) {
    auto* t = graph->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    for (auto d : dims) t->add_dims(d);
    for (auto v : values) t->add_int64_data(v);
    return *this;
  }

  onnx::NodeProto& node(const std::string& op_type, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = "") {
    auto* n = graph->add_node();
    n->set_op_type(op_type);
    n->set_name(name);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return *n;
  }

  static void attr(onnx::NodeProto& n, const std::string& key, std::int64_t v) {
    auto* a = n.add_attribute();
    a->set_name(key);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr(onnx::NodeProto& n, const std::string& key, float v) {
    auto* a = n.add_attribute();
    a->set_name(key);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void attr(onnx::NodeProto& n, const std::string& key, const std::string& v) {
    auto* a = n.add_attribute();
    a->set_name(key);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }
  static void attr(onnx::NodeProto& n, const std::string& key, const std::vector<std::int64_t>& v) {
    auto* a = n.add_attribute();
    a->set_name(key);
    a->set_type(onnx::AttributeProto::INTS);
    for (auto x : v) a->add_ints(x);
  }
};

// A rank-0 initializer of `type`: FLOAT holds f, an integer type (zero points) holds i. For tests
// that write QDQ/QOperator graphs node by node.
inline void scalar_initializer(onnx::GraphProto* g, const std::string& name, int type, float f, std::int32_t i) {
  onnx::TensorProto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(type);
  if (type == onnx::TensorProto::FLOAT) t->add_float_data(f);
  else t->add_int32_data(i);
}

}  // namespace statiq::test
