// codegen/exec/float_executor.cpp — graph walk, operator table, shared helpers.
#include "codegen/exec/float_executor.hpp"

#include <algorithm>
#include <set>

#include "codegen/exec/ops.hpp"

namespace statiq::codegen::exec {

Array Array::floats(ir::Dims shape, std::vector<float> values) {
  Array a;
  a.dtype = ir::DataType::float32;
  a.shape = std::move(shape);
  const auto n = static_cast<std::size_t>(ir::element_count(a.shape));
  if (values.empty()) values.assign(n, 0.0f);
  if (values.size() != n)
    throw std::runtime_error("Array::floats: " + std::to_string(values.size()) + " values for shape " +
                             ir::to_string(a.shape));
  a.f = std::move(values);
  return a;
}

Array Array::ints(ir::Dims shape, std::vector<std::int64_t> values, ir::DataType dtype) {
  Array a;
  a.dtype = dtype;
  a.shape = std::move(shape);
  const auto n = static_cast<std::size_t>(ir::element_count(a.shape));
  if (values.empty()) values.assign(n, 0);
  if (values.size() != n)
    throw std::runtime_error("Array::ints: " + std::to_string(values.size()) + " values for shape " +
                             ir::to_string(a.shape));
  a.i = std::move(values);
  return a;
}

Array Array::from_tensor(const ir::Tensor& t) {
  if (!t.is_initializer || !t.shape) throw std::runtime_error("tensor '" + t.name + "' is not an initializer");
  Array a;
  a.dtype = t.dtype;
  a.shape = *t.shape;
  if (ir::is_floating(t.dtype)) a.f = t.float_data;
  else a.i = t.int64_data;
  return a;
}

namespace ops {

const Array& in(const ir::Node& node, const std::vector<const Array*>& inputs, std::size_t k) {
  if (k >= inputs.size() || !inputs[k]) fail("input " + std::to_string(k) + " is required but missing");
  (void)node;
  return *inputs[k];
}

const Array& in_float(const ir::Node& node, const std::vector<const Array*>& inputs, std::size_t k) {
  const Array& a = in(node, inputs, k);
  if (!a.is_float())
    fail("input " + std::to_string(k) + " ('" + node.inputs[k] + "') must be floating, is " +
         std::string(ir::to_string(a.dtype)));
  return a;
}

std::vector<std::int64_t> in_ints(const ir::Node& node, const std::vector<const Array*>& inputs, std::size_t k) {
  const Array& a = in(node, inputs, k);
  if (a.is_float())
    fail("input " + std::to_string(k) + " ('" + node.inputs[k] + "') must be an integer tensor, is " +
         std::string(ir::to_string(a.dtype)));
  return a.i;
}

std::int64_t normalize_axis(std::int64_t axis, std::int64_t rank) {
  if (axis < -rank || axis >= rank)
    fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

Window2D resolve_window(const ir::Node& node, const std::int64_t in_hw[2], const std::int64_t kernel[2],
                        bool ceil_mode) {
  Window2D w{};
  const auto strides = node.attr_ints("strides", {1, 1});
  const auto dilations = node.attr_ints("dilations", {1, 1});
  const auto pads = node.attr_ints("pads", {0, 0, 0, 0});
  const auto auto_pad = node.attr_string("auto_pad", "NOTSET");
  if (strides.size() != 2 || dilations.size() != 2 || pads.size() != 4)
    fail("strides/dilations/pads must describe 2 spatial axes");
  for (int a = 0; a < 2; ++a) {
    w.kernel[a] = kernel[a];
    w.stride[a] = strides[a];
    w.dilation[a] = dilations[a];
    if (w.stride[a] < 1 || w.dilation[a] < 1 || w.kernel[a] < 1) fail("kernel, strides and dilations must be >= 1");
    const std::int64_t k_eff = (kernel[a] - 1) * dilations[a] + 1;
    const std::int64_t in = in_hw[a];
    if (auto_pad == "NOTSET" || auto_pad == "VALID") {
      w.pad_begin[a] = auto_pad == "VALID" ? 0 : pads[a];
      w.pad_end[a] = auto_pad == "VALID" ? 0 : pads[a + 2];
      const std::int64_t span = in + w.pad_begin[a] + w.pad_end[a] - k_eff;
      if (span < 0) fail("the window (" + std::to_string(k_eff) + ") is larger than the padded input (" +
                         std::to_string(in + w.pad_begin[a] + w.pad_end[a]) + ")");
      w.out[a] = (ceil_mode ? (span + w.stride[a] - 1) / w.stride[a] : span / w.stride[a]) + 1;
      // ceil_mode must not add a window that starts in the end padding (PyTorch/ONNX reference).
      if (ceil_mode && (w.out[a] - 1) * w.stride[a] >= in + w.pad_begin[a]) --w.out[a];
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      w.out[a] = (in + w.stride[a] - 1) / w.stride[a];
      const std::int64_t total = std::max<std::int64_t>(0, (w.out[a] - 1) * w.stride[a] + k_eff - in);
      const std::int64_t small = total / 2, large = total - total / 2;
      w.pad_begin[a] = auto_pad == "SAME_UPPER" ? small : large;
      w.pad_end[a] = auto_pad == "SAME_UPPER" ? large : small;
    } else {
      fail("unknown auto_pad '" + auto_pad + "'");
    }
    if (w.out[a] < 1) fail("empty output");
  }
  return w;
}

const std::map<std::string, OpFn>& table() {
  static const std::map<std::string, OpFn> t = [] {
    std::map<std::string, OpFn> m;
    register_linear_ops(m);
    register_elementwise_ops(m);
    register_pool_ops(m);
    register_shape_ops(m);
    return m;
  }();
  return t;
}

}  // namespace ops

bool FloatExecutor::supports(const std::string& op_type, const std::string& domain) {
  return (domain.empty() || domain == "ai.onnx") && ops::table().count(op_type) != 0;
}

std::vector<std::string> FloatExecutor::supported_op_types() {
  std::vector<std::string> out;
  for (const auto& [k, v] : ops::table()) out.push_back(k);
  return out;
}

void FloatExecutor::check_supported(const ir::Graph& graph) {
  // Its ops have the same semantics in opsets 13..18 (see load_onnx.hpp).
  if (graph.opset < 13 || graph.opset > 18)
    throw std::runtime_error("graph '" + graph.name + "': the float executor runs opsets 13..18, the graph has opset " +
                             std::to_string(graph.opset));
  for (const auto& n : graph.nodes)
    if (!supports(n.op_type, n.domain))
      throw std::runtime_error(n.describe() + ": not supported by the float executor" +
                               (n.domain.empty() ? std::string() : " (domain '" + n.domain + "')"));
}

FloatExecutor::FloatExecutor(const ir::Graph& graph) : graph_(graph) {
  check_supported(graph);
}

const ir::Tensor* FloatExecutor::initializer(const std::string& name) const {
  const auto it = graph_.tensors.find(name);
  return it != graph_.tensors.end() && it->second.is_initializer ? &it->second : nullptr;
}

void FloatExecutor::run_node(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs) {
  try {
    ops::table().at(node.op_type)(node, inputs, outputs);
  } catch (const std::exception& e) {
    const std::string prefix = node.describe();
    const std::string what = e.what();
    if (what.rfind(prefix, 0) == 0) throw;
    throw std::runtime_error(prefix + ": " + what);
  }
}

RunResult FloatExecutor::run(const std::vector<Array>& inputs, const RunOptions& options) const {
  if (inputs.size() != graph_.inputs.size())
    throw std::runtime_error("graph '" + graph_.name + "' has " + std::to_string(graph_.inputs.size()) +
                             " inputs, " + std::to_string(inputs.size()) + " given");
  std::map<std::string, Array> values;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const ir::Tensor& t = graph_.tensor(graph_.inputs[k]);
    const Array& a = inputs[k];
    if (t.shape) {
      bool ok = t.shape->size() == a.shape.size();
      for (std::size_t d = 0; ok && d < a.shape.size(); ++d) ok = (*t.shape)[d] < 0 || (*t.shape)[d] == a.shape[d];
      if (!ok)
        throw std::runtime_error("graph input '" + t.name + "' expects shape " + ir::to_string(*t.shape) + ", got " +
                                 ir::to_string(a.shape));
    }
    if (ir::is_floating(t.dtype) != a.is_float())
      throw std::runtime_error("graph input '" + t.name + "' expects " + std::string(ir::to_string(t.dtype)) +
                               ", got " + std::string(ir::to_string(a.dtype)));
    if (static_cast<std::int64_t>(a.is_float() ? a.f.size() : a.i.size()) != a.size())
      throw std::runtime_error("graph input '" + t.name + "': data size does not match shape " + ir::to_string(a.shape));
    values[t.name] = a;
  }

  // Last node reading each tensor, so intermediates are freed as soon as possible.
  std::map<std::string, std::size_t> last_use;
  for (std::size_t k = 0; k < graph_.nodes.size(); ++k)
    for (const auto& name : graph_.nodes[k].inputs) last_use[name] = k;
  const std::set<std::string> graph_outputs(graph_.outputs.begin(), graph_.outputs.end());

  RunResult result;
  std::vector<const Array*> node_inputs;
  std::vector<Array> node_constants;
  for (std::size_t k = 0; k < graph_.nodes.size(); ++k) {
    const ir::Node& node = graph_.nodes[k];
    node_inputs.clear();
    node_constants.clear();
    node_constants.reserve(node.inputs.size());  // no reallocation: node_inputs points into it
    for (std::size_t i = 0; i < node.inputs.size(); ++i) {
      const std::string& name = node.inputs[i];
      if (name.empty()) {
        node_inputs.push_back(nullptr);
        continue;
      }
      if (const ir::Tensor* c = initializer(name)) {
        if (node.op_type == "Conv" && i == 1 && ir::is_floating(c->dtype) && c->shape) {
          Array w;  // lent, not copied (Array::lent)
          w.dtype = c->dtype;
          w.shape = *c->shape;
          w.lent = &c->float_data;
          node_constants.push_back(std::move(w));
        } else {
          node_constants.push_back(Array::from_tensor(*c));
        }
        node_inputs.push_back(&node_constants.back());
        continue;
      }
      auto v = values.find(name);
      if (v == values.end()) throw std::runtime_error(node.describe() + ": input '" + name + "' has no value");
      node_inputs.push_back(&v->second);
    }
    std::vector<Array> outs(node.outputs.size());
    run_node(node, node_inputs, outs);
    for (std::size_t o = 0; o < outs.size(); ++o) {
      const std::string& name = node.outputs[o];
      if (name.empty()) continue;
      if (options.observer) options.observer(node, name, outs[o]);
      if (options.record_intermediates) result.tensors[name] = outs[o];
      values[name] = std::move(outs[o]);
    }
    for (const auto& name : node.inputs) {
      auto it = last_use.find(name);
      if (it != last_use.end() && it->second == k && !graph_outputs.count(name)) values.erase(name);
    }
  }
  for (const auto& name : graph_.outputs) {
    if (const ir::Tensor* c = initializer(name)) {
      result.outputs.push_back(Array::from_tensor(*c));
      continue;
    }
    auto v = values.find(name);
    if (v == values.end()) throw std::runtime_error("graph output '" + name + "' was not computed");
    result.outputs.push_back(v->second);
  }
  return result;
}

std::vector<std::string> complete_shapes(ir::Graph& graph) {
  auto unknown = [&] {
    std::vector<std::string> names;
    for (const auto& [name, t] : graph.tensors)
      if (!t.has_static_shape()) names.push_back(name);
    return names;
  };
  std::vector<std::string> missing = unknown();
  if (missing.empty()) return missing;
  std::vector<Array> inputs;
  for (const auto& name : graph.inputs) {
    const ir::Tensor& t = graph.tensor(name);
    if (!t.has_static_shape()) return missing;
    inputs.push_back(ir::is_floating(t.dtype) ? Array::floats(*t.shape) : Array::ints(*t.shape, {}, t.dtype));
  }
  for (const auto& n : graph.nodes)
    if (!FloatExecutor::supports(n.op_type, n.domain)) return missing;
  RunOptions options;
  options.observer = [&](const ir::Node&, const std::string& name, const Array& value) {
    ir::Tensor& t = graph.tensor(name);
    if (!t.has_static_shape()) t.shape = value.shape;
    if (t.dtype == ir::DataType::undefined) t.dtype = value.dtype;
  };
  try {
    FloatExecutor(graph).run(inputs, options);
  } catch (const std::exception&) {
    // Zeros may be an invalid input (e.g. a data-dependent shape); shapes then stay unknown.
  }
  return unknown();
}

}  // namespace statiq::codegen::exec
