// codegen/normalize/graph_edit.cpp — graph queries and edits shared by the normalisation passes.
#include "codegen/normalize/graph_edit.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace statiq::codegen::normalize::edit {

bool is_graph_input(const ir::Graph& g, const std::string& name) {
  return std::find(g.inputs.begin(), g.inputs.end(), name) != g.inputs.end();
}

const ir::Tensor* constant(const ir::Graph& g, const std::string& name) {
  if (name.empty()) return nullptr;
  auto it = g.tensors.find(name);
  if (it == g.tensors.end() || !it->second.is_initializer || !it->second.shape) return nullptr;
  // last: the scan of the graph inputs is reached only by initializers, rarely also inputs
  if (is_graph_input(g, name)) return nullptr;
  return &it->second;
}

std::optional<float> scalar(const ir::Graph& g, const std::string& name) {
  const ir::Tensor* t = constant(g, name);
  if (!t || !ir::is_floating(t->dtype) || t->float_data.size() != 1) return std::nullopt;
  return t->float_data[0];
}

std::string label(const ir::Node& n) { return display_name(n.op_type) + " '" + display_name(n.name) + "'"; }

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

namespace statiq::codegen::normalize {

GraphEdit::GraphEdit(ir::Graph& g)
    : g_(g), inputs_(g.inputs.begin(), g.inputs.end()) {
  for (const auto& o : g.outputs) ++output_reads_[o];
  index_nodes();
}

void GraphEdit::index_nodes() {
  uses_.clear();
  erased_.assign(g_.nodes.size(), false);
  for (std::size_t i = 0; i < g_.nodes.size(); ++i) {
    for (const auto& in : g_.nodes[i].inputs) read(in, i);
    for (const auto& out : g_.nodes[i].outputs)
      if (!out.empty()) uses_[out].producer = i;
  }
}

void GraphEdit::read(const std::string& t, std::size_t node) {
  if (t.empty()) return;
  Uses& u = uses_[t];
  ++u.node_reads;
  u.reader_sum += node;
}

void GraphEdit::unread(const std::string& t, std::size_t node) {
  if (t.empty()) return;
  Uses& u = uses_[t];
  if (u.node_reads == 0) throw std::logic_error("GraphEdit: '" + display_name(t) + "' was not read");
  --u.node_reads;
  u.reader_sum -= node;
}

bool GraphEdit::is_graph_output(const std::string& t) const { return output_reads_.count(t) != 0; }

std::size_t GraphEdit::use_count(const std::string& t) const {
  std::size_t n = 0;
  if (const auto o = output_reads_.find(t); o != output_reads_.end()) n += o->second;
  if (const auto u = uses_.find(t); u != uses_.end()) n += u->second.node_reads;
  return n;
}

std::optional<std::size_t> GraphEdit::producer(const std::string& t) const {
  const auto u = uses_.find(t);
  return u == uses_.end() ? std::nullopt : u->second.producer;
}

std::optional<std::size_t> GraphEdit::sole_consumer(const std::string& t) const {
  if (is_graph_output(t)) return std::nullopt;
  const auto u = uses_.find(t);
  if (u == uses_.end() || u->second.node_reads != 1) return std::nullopt;
  return u->second.reader_sum;
}

const ir::Tensor* GraphEdit::constant(const std::string& t) const {
  if (t.empty() || is_graph_input(t)) return nullptr;
  auto it = g_.tensors.find(t);
  if (it == g_.tensors.end() || !it->second.is_initializer || !it->second.shape) return nullptr;
  return &it->second;
}

std::string GraphEdit::origin(const std::string& t) const {
  if (is_graph_input(t)) return "graph input '" + display_name(t) + "'";
  if (const auto p = producer(t)) return edit::label(g_.nodes[*p]);
  return "initializer '" + display_name(t) + "'";
}

void GraphEdit::set_input(std::size_t node, std::size_t slot, const std::string& t) {
  auto& inputs = g_.nodes.at(node).inputs;
  if (inputs.size() <= slot) inputs.resize(slot + 1);
  const std::string old = inputs[slot];
  unread(old, node);
  inputs[slot] = t;
  read(t, node);
  drop_if_unreferenced(old);
}

void GraphEdit::set_inputs(std::size_t node, const std::vector<std::string>& inputs) {
  const std::vector<std::string> old = g_.nodes.at(node).inputs;
  for (const auto& in : old) unread(in, node);
  g_.nodes[node].inputs = inputs;
  for (const auto& in : inputs) read(in, node);
  for (const auto& in : old) drop_if_unreferenced(in);
}

void GraphEdit::set_output(std::size_t node, std::size_t slot, const std::string& t) {
  std::string& out = g_.nodes.at(node).outputs.at(slot);
  const std::string old = out;
  if (!old.empty()) {
    Uses& u = uses_[old];
    if (u.producer == node) u.producer.reset();
  }
  out = t;
  if (!t.empty()) uses_[t].producer = node;
  drop_if_unreferenced(old);
}

void GraphEdit::erase(std::size_t node) {
  if (erased_.at(node)) return;
  erased_[node] = true;
  const ir::Node& n = g_.nodes[node];
  for (const auto& in : n.inputs) unread(in, node);
  for (const auto& out : n.outputs) {
    if (out.empty()) continue;
    Uses& u = uses_[out];
    if (u.producer == node) u.producer.reset();
  }
  for (const auto& in : n.inputs) drop_if_unreferenced(in);
  for (const auto& out : n.outputs) drop_if_unreferenced(out);
}

ir::Tensor& GraphEdit::exclusive_initializer(std::size_t node, std::size_t input) {
  const std::string name = g_.nodes.at(node).inputs.at(input);
  if (!constant(name)) throw std::logic_error("exclusive_initializer: '" + display_name(name) + "' is not an initializer");
  if (use_count(name) == 1) return g_.tensor(name);
  ir::Tensor copy = g_.tensor(name);
  copy.name = edit::fresh_name(g_, g_.nodes[node].name + "." + name);
  const std::string copy_name = copy.name;
  g_.tensors.emplace(copy_name, std::move(copy));
  set_input(node, input, copy_name);
  return g_.tensor(copy_name);
}

void GraphEdit::drop_if_unreferenced(const std::string& t) {
  if (t.empty() || is_graph_input(t) || is_graph_output(t)) return;
  const auto u = uses_.find(t);
  if (u != uses_.end()) {
    if (u->second.node_reads > 0 || u->second.producer) return;
    uses_.erase(u);
  }
  g_.tensors.erase(t);
}

void GraphEdit::commit() {
  std::size_t kept = 0;
  for (std::size_t i = 0; i < g_.nodes.size(); ++i)
    if (!erased_[i]) {
      if (kept != i) g_.nodes[kept] = std::move(g_.nodes[i]);
      ++kept;
    }
  g_.nodes.resize(kept);
  index_nodes();  // the index spoke of the old positions
}

}  // namespace statiq::codegen::normalize
