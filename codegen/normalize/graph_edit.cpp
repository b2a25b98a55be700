// codegen/normalize/graph_edit.cpp — graph queries and edits shared by the normalisation passes.
#include "codegen/normalize/graph_edit.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace statiq::codegen::normalize::edit {

bool is_graph_input(const ir::Graph& g, const std::string& name) {
  return std::find(g.inputs.begin(), g.inputs.end(), name) != g.inputs.end();
}

bool is_graph_output(const ir::Graph& g, const std::string& name) {
  return std::find(g.outputs.begin(), g.outputs.end(), name) != g.outputs.end();
}

const ir::Tensor* constant(const ir::Graph& g, const std::string& name) {
  if (name.empty() || is_graph_input(g, name)) return nullptr;
  auto it = g.tensors.find(name);
  if (it == g.tensors.end() || !it->second.is_initializer || !it->second.shape) return nullptr;
  return &it->second;
}

std::optional<float> scalar(const ir::Graph& g, const std::string& name) {
  const ir::Tensor* t = constant(g, name);
  if (!t || !ir::is_floating(t->dtype) || t->float_data.size() != 1) return std::nullopt;
  return t->float_data[0];
}

std::size_t use_count(const ir::Graph& g, const std::string& name) {
  std::size_t n = static_cast<std::size_t>(std::count(g.outputs.begin(), g.outputs.end(), name));
  for (const auto& node : g.nodes) n += static_cast<std::size_t>(std::count(node.inputs.begin(), node.inputs.end(), name));
  return n;
}

std::optional<std::size_t> sole_consumer(const ir::Graph& g, const std::string& name) {
  if (use_count(g, name) != 1 || is_graph_output(g, name)) return std::nullopt;
  const auto readers = g.consumers(name);
  if (readers.size() != 1) return std::nullopt;
  return readers[0];
}

std::string label(const ir::Node& n) { return n.op_type + " '" + n.name + "'"; }

std::string origin(const ir::Graph& g, const std::string& tensor) {
  if (is_graph_input(g, tensor)) return "graph input '" + tensor + "'";
  const auto p = g.producer(tensor);
  if (p >= 0) return label(g.nodes[static_cast<std::size_t>(p)]);
  return "initializer '" + tensor + "'";
}

std::string shape_of(const ir::Graph& g, const std::string& tensor) {
  auto it = g.tensors.find(tensor);
  if (it == g.tensors.end() || !it->second.shape) return "(shape unknown)";
  return ir::to_string(*it->second.shape);
}

std::string number(double v) {
  char buf[64];
  // float precision is what the graph holds: print the shortest form that round-trips a float.
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<float>(v));
  if (ec != std::errc()) return std::to_string(v);
  return std::string(buf, end);
}

std::string fresh_name(const ir::Graph& g, const std::string& base) {
  if (!g.has_tensor(base)) return base;
  for (std::size_t k = 1;; ++k) {
    std::string candidate = base + "_" + std::to_string(k);
    if (!g.has_tensor(candidate)) return candidate;
  }
}

std::string add_initializer(ir::Graph& g, const std::string& base, ir::Dims shape, std::vector<float> values) {
  if (static_cast<std::int64_t>(values.size()) != ir::element_count(shape))
    throw std::logic_error("add_initializer: " + std::to_string(values.size()) + " values for " + ir::to_string(shape));
  ir::Tensor t;
  t.name = fresh_name(g, base);
  t.dtype = ir::DataType::float32;
  t.shape = std::move(shape);
  t.is_initializer = true;
  t.float_data = std::move(values);
  std::string name = t.name;
  g.tensors.emplace(name, std::move(t));
  return name;
}

ir::Tensor& exclusive_initializer(ir::Graph& g, std::size_t node, std::size_t input) {
  const std::string name = g.nodes.at(node).inputs.at(input);
  if (!constant(g, name)) throw std::logic_error("exclusive_initializer: '" + name + "' is not an initializer");
  if (use_count(g, name) == 1) return g.tensor(name);
  ir::Tensor copy = g.tensor(name);
  copy.name = fresh_name(g, g.nodes[node].name + "." + name);
  const std::string copy_name = copy.name;
  g.tensors.emplace(copy_name, std::move(copy));
  g.nodes[node].inputs[input] = copy_name;
  return g.tensor(copy_name);
}

void replace_uses(ir::Graph& g, const std::string& from, const std::string& to) {
  for (auto& node : g.nodes)
    for (auto& in : node.inputs)
      if (in == from) in = to;
}

void drop_if_unreferenced(ir::Graph& g, const std::string& name) {
  if (name.empty() || is_graph_input(g, name) || is_graph_output(g, name)) return;
  for (const auto& node : g.nodes) {
    if (std::find(node.inputs.begin(), node.inputs.end(), name) != node.inputs.end()) return;
    if (std::find(node.outputs.begin(), node.outputs.end(), name) != node.outputs.end()) return;
  }
  g.tensors.erase(name);
}

std::optional<std::vector<float>> per_channel(const ir::Tensor& c, const ir::Dims& out_shape) {
  if (!c.is_initializer || !c.shape || !ir::is_floating(c.dtype) || out_shape.size() < 2) return std::nullopt;
  const ir::Dims& cs = *c.shape;
  if (cs.size() > out_shape.size()) return std::nullopt;
  const std::int64_t channels = out_shape[1];
  const std::size_t offset = out_shape.size() - cs.size();
  for (std::size_t k = 0; k < cs.size(); ++k) {
    const std::size_t axis = offset + k;
    if (cs[k] == 1) continue;
    if (axis != 1 || cs[k] != channels) return std::nullopt;
  }
  if (c.float_data.size() == 1) return std::vector<float>(static_cast<std::size_t>(channels), c.float_data[0]);
  if (static_cast<std::int64_t>(c.float_data.size()) != channels) return std::nullopt;
  return c.float_data;
}

}  // namespace statiq::codegen::normalize::edit
