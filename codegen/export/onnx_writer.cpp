// codegen/export/onnx_writer.cpp — see onnx_writer.hpp.
#include "codegen/export/onnx_writer.hpp"

#include <onnx/onnx_pb.h>

#include <fstream>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <variant>

#include <unistd.h>

namespace statiq::codegen::onnx_writer {

onnx::ModelProto new_model(const std::string& graph_name) {
  onnx::ModelProto model;
  model.set_ir_version(7);
  model.set_producer_name("statiq-codegen");
  auto* op = model.add_opset_import();
  op->set_domain("");
  op->set_version(13);
  model.mutable_graph()->set_name(graph_name);
  return model;
}

void value_info(onnx::ValueInfoProto* v, const std::string& name, int elem_type, const std::vector<std::int64_t>& dims) {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(elem_type);
  for (std::int64_t d : dims) t->mutable_shape()->add_dim()->set_dim_value(d);
}

onnx::NodeProto* add_node(onnx::GraphProto& g, const std::string& op, const std::string& name,
                          const std::vector<std::string>& inputs, const std::vector<std::string>& outputs) {
  auto* n = g.add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const auto& i : inputs) n->add_input(i);
  for (const auto& o : outputs) n->add_output(o);
  return n;
}

void set_attribute(onnx::NodeProto* n, const std::string& name, std::int64_t value) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

void set_attribute(onnx::NodeProto* n, const std::string& name, const std::vector<std::int64_t>& values) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (auto v : values) a->add_ints(v);
}

void set_attribute(onnx::NodeProto* n, const std::string& name, float value) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(value);
}

onnx::TensorProto* add_initializer(onnx::GraphProto& g, const std::string& name, int type,
                                   const std::vector<std::int64_t>& dims) {
  onnx::TensorProto* t = g.add_initializer();
  t->set_name(name);
  t->set_data_type(type);
  for (auto d : dims) t->add_dims(d);
  return t;
}

namespace {

void fill_tensor(onnx::TensorProto* t, const ir::Tensor& tensor, const std::string& where) {
  t->set_name(tensor.name);
  if (!tensor.shape) throw std::runtime_error(where + ": the tensor '" + tensor.name + "' has no shape");
  for (std::int64_t d : *tensor.shape) t->add_dims(d);
  if (tensor.dtype == ir::DataType::float32) {
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (float v : tensor.float_data) t->add_float_data(v);
  } else if (tensor.dtype == ir::DataType::int64) {
    t->set_data_type(onnx::TensorProto::INT64);
    for (std::int64_t v : tensor.int64_data) t->add_int64_data(v);
  } else {
    throw std::runtime_error(where + ": the tensor '" + tensor.name + "' is " + std::string(ir::to_string(tensor.dtype)) +
                             ", which the export does not write (float32 and int64 only)");
  }
}

}  // namespace

void add_ir_initializer(onnx::GraphProto& g, const ir::Tensor& tensor) {
  fill_tensor(g.add_initializer(), tensor, "initializer");
}

void add_ir_node(onnx::GraphProto& g, const ir::Node& node) {
  onnx::NodeProto* n = add_node(g, node.op_type, node.name, node.inputs, node.outputs);
  if (!node.domain.empty()) n->set_domain(node.domain);
  const std::string where = "node '" + node.name + "' (" + node.op_type + ")";
  for (const auto& attribute : node.attributes) {
    // not a structured binding: clang 14 (the fuzz build) cannot capture one in the lambda below
    const std::string& key = attribute.first;
    const auto& value = attribute.second;
    auto* a = n->add_attribute();
    a->set_name(key);
    std::visit(
        [&](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::int64_t>) {
            a->set_type(onnx::AttributeProto::INT), a->set_i(v);
          } else if constexpr (std::is_same_v<V, float>) {
            a->set_type(onnx::AttributeProto::FLOAT), a->set_f(v);
          } else if constexpr (std::is_same_v<V, std::string>) {
            a->set_type(onnx::AttributeProto::STRING), a->set_s(v);
          } else if constexpr (std::is_same_v<V, std::vector<std::int64_t>>) {
            a->set_type(onnx::AttributeProto::INTS);
            for (auto x : v) a->add_ints(x);
          } else if constexpr (std::is_same_v<V, std::vector<float>>) {
            a->set_type(onnx::AttributeProto::FLOATS);
            for (auto x : v) a->add_floats(x);
          } else if constexpr (std::is_same_v<V, std::vector<std::string>>) {
            a->set_type(onnx::AttributeProto::STRINGS);
            for (const auto& x : v) a->add_strings(x);
          } else if constexpr (std::is_same_v<V, ir::Tensor>) {
            a->set_type(onnx::AttributeProto::TENSOR);
            fill_tensor(a->mutable_t(), v, where + " attribute '" + key + "'");
          } else {
            throw std::runtime_error(where + ": its attribute '" + key + "' was not kept by the loader, so the node "
                                     "cannot be written back");
          }
        },
        value);
  }
}

void set_conv_attributes(onnx::NodeProto* n, const ConvAttributes& a) {
  const Pads p = resolved_pads(a);
  set_attribute(n, "kernel_shape", std::vector<std::int64_t>{a.kernel.h, a.kernel.w});
  set_attribute(n, "strides", std::vector<std::int64_t>{a.strides.h, a.strides.w});
  set_attribute(n, "dilations", std::vector<std::int64_t>{a.dilations.h, a.dilations.w});
  set_attribute(n, "pads", std::vector<std::int64_t>{p.top, p.left, p.bottom, p.right});
  set_attribute(n, "group", std::int64_t{a.group});
}

void set_pool_attributes(onnx::NodeProto* n, const Pool& pool, Shape in) {
  const Pads p = resolve_pads(pool.pads, in, pool.kernel, pool.strides);
  set_attribute(n, "kernel_shape", std::vector<std::int64_t>{pool.kernel.h, pool.kernel.w});
  set_attribute(n, "strides", std::vector<std::int64_t>{pool.strides.h, pool.strides.w});
  set_attribute(n, "pads", std::vector<std::int64_t>{p.top, p.left, p.bottom, p.right});
}

namespace {
[[noreturn]] void count_mismatch(const Layer& l) {
  throw std::runtime_error("export: node '" + l.name + "' (" + std::string(layer_kind_name(l.kind)) +
                           "): its weight count does not match its attributes");
}
}  // namespace

std::vector<std::int32_t> oihw_weights(const Layer& l, const ConvAttributes& a) {
  const int o = a.filters, ci = a.input.c / a.group, kh = a.kernel.h, kw = a.kernel.w;
  if (l.qweights.size() != std::size_t(o) * ci * kh * kw) count_mismatch(l);
  std::vector<std::int32_t> w(l.qweights.size());
  for (int f = 0; f < o; ++f)
    for (int y = 0; y < kh; ++y)
      for (int x = 0; x < kw; ++x)
        for (int c = 0; c < ci; ++c)
          w[((std::size_t(f) * ci + c) * kh + y) * kw + x] = l.qweights[((std::size_t(f) * kh + y) * kw + x) * ci + c];
  return w;
}

std::vector<std::int32_t> nchw_dense_weights(const Layer& l, const DenseAttributes& a) {
  const Shape s = a.input;
  const int units = a.units, k = s.h * s.w * s.c;
  if (l.qweights.size() != std::size_t(units) * k) count_mismatch(l);
  std::vector<std::int32_t> w(l.qweights.size());
  for (int u = 0; u < units; ++u)
    for (int c = 0; c < s.c; ++c)
      for (int y = 0; y < s.h; ++y)
        for (int x = 0; x < s.w; ++x)
          w[std::size_t(u) * k + (std::size_t(c) * s.h + y) * s.w + x] =
              l.qweights[std::size_t(u) * k + (std::size_t(y) * s.w + x) * s.c + c];
  return w;
}

void write_model(const onnx::ModelProto& model, const std::filesystem::path& file, const std::string& what) {
  std::filesystem::path tmp = file;
  tmp += ".tmp" + std::to_string(::getpid());
  std::error_code ec;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out || !model.SerializeToOstream(&out) || !out.flush()) {
      out.close();
      std::filesystem::remove(tmp, ec);
      throw std::runtime_error(what + ": cannot write " + file.string() + 
                               " (its folder does not exist, is not writable or is full): create the "
                               "folder or choose another path");
    }
  }
  std::filesystem::rename(tmp, file, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw std::runtime_error(what + ": cannot write " + file.string());
  }
}

}  // namespace statiq::codegen::onnx_writer
