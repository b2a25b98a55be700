// codegen/ir/ir.cpp — helpers of the statiq IR (tensor, node, graph).
#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <queue>
#include <set>
#include <stdexcept>

#include "codegen/ir/graph.hpp"
#include "codegen/emit/cpp_escape.hpp"

namespace statiq::codegen::ir {

namespace {
struct TypeEntry {
  DataType type;
  int onnx;
  std::string_view name;
};
constexpr TypeEntry type_table[] = {
    {DataType::undefined, 0, "undefined"}, {DataType::float32, 1, "float32"}, {DataType::uint8, 2, "uint8"},
    {DataType::int8, 3, "int8"},           {DataType::uint16, 4, "uint16"},   {DataType::int16, 5, "int16"},
    {DataType::int32, 6, "int32"},         {DataType::int64, 7, "int64"},     {DataType::string, 8, "string"},
    {DataType::boolean, 9, "bool"},        {DataType::float16, 10, "float16"}, {DataType::float64, 11, "float64"},
    {DataType::uint32, 12, "uint32"},      {DataType::uint64, 13, "uint64"},
};
}  // namespace

std::string_view to_string(DataType t) {
  for (const auto& e : type_table)
    if (e.type == t) return e.name;
  return "undefined";
}

bool is_floating(DataType t) {
  return t == DataType::float32 || t == DataType::float64 || t == DataType::float16;
}

int to_onnx_elem_type(DataType t) {
  for (const auto& e : type_table)
    if (e.type == t) return e.onnx;
  return 0;
}

DataType from_onnx_elem_type(int elem_type) {
  for (const auto& e : type_table)
    if (e.onnx == elem_type) return e.type;
  return DataType::undefined;
}

std::string to_string(const Dims& dims) {
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ",";
    s += dims[i] < 0 ? std::string("?") : std::to_string(dims[i]);
  }
  return s + "]";
}

std::int64_t element_count(const Dims& dims) {
  std::int64_t n = 1;
  for (auto d : dims)
    if (d < 0) throw std::runtime_error("element count of a shape with an unknown dimension " + to_string(dims));
  if (std::find(dims.begin(), dims.end(), 0) != dims.end()) return 0;
  // dims come from model files: a product past 2^63 is refused, not wrapped (signed overflow)
  for (auto d : dims)
    if (__builtin_mul_overflow(n, d, &n))
      throw std::runtime_error("shape " + to_string(dims) + " has more than 2^63 elements (corrupt model?)");
  return n;
}

bool Tensor::has_static_shape() const {
  return shape && std::all_of(shape->begin(), shape->end(), [](std::int64_t d) { return d >= 0; });
}

// --- Node ------------------------------------------------------------------------------------

// Names from the model are shown escaped where the message is made (a report or log then never
// holds raw control bytes).
std::string Node::describe() const { return "node '" + display_name(name) + "' (" + display_name(op_type) + ")"; }

namespace {
template <class T>
const T* get_attr(const Node& n, const std::string& key, const char* kind) {
  auto it = n.attributes.find(key);
  if (it == n.attributes.end()) return nullptr;
  const T* v = std::get_if<T>(&it->second);
  if (!v) throw std::runtime_error(n.describe() + ": attribute '" + display_name(key) + "' is not of kind " + kind);
  return v;
}
}  // namespace

std::int64_t Node::attr_int(const std::string& key, std::int64_t fallback) const {
  const auto* v = get_attr<std::int64_t>(*this, key, "INT");
  return v ? *v : fallback;
}
float Node::attr_float(const std::string& key, float fallback) const {
  const auto* v = get_attr<float>(*this, key, "FLOAT");
  return v ? *v : fallback;
}
std::string Node::attr_string(const std::string& key, const std::string& fallback) const {
  const auto* v = get_attr<std::string>(*this, key, "STRING");
  return v ? *v : fallback;
}
std::vector<std::int64_t> Node::attr_ints(const std::string& key, const std::vector<std::int64_t>& fallback) const {
  const auto* v = get_attr<std::vector<std::int64_t>>(*this, key, "INTS");
  return v ? *v : fallback;
}
std::vector<float> Node::attr_floats(const std::string& key, const std::vector<float>& fallback) const {
  const auto* v = get_attr<std::vector<float>>(*this, key, "FLOATS");
  return v ? *v : fallback;
}
const Tensor& Node::attr_tensor(const std::string& key) const {
  const auto* v = get_attr<Tensor>(*this, key, "TENSOR");
  if (!v) throw std::runtime_error(describe() + ": attribute '" + display_name(key) + "' is missing");
  return *v;
}

// --- Graph -----------------------------------------------------------------------------------

const Tensor& Graph::tensor(const std::string& n) const {
  auto it = tensors.find(n);
  if (it == tensors.end()) throw std::runtime_error("graph '" + display_name(name) + "': no tensor named '" + display_name(n) + "'");
  return it->second;
}
Tensor& Graph::tensor(const std::string& n) {
  auto it = tensors.find(n);
  if (it == tensors.end()) throw std::runtime_error("graph '" + display_name(name) + "': no tensor named '" + display_name(n) + "'");
  return it->second;
}

std::int64_t Graph::producer(const std::string& t) const {
  for (std::size_t i = 0; i < nodes.size(); ++i)
    for (const auto& o : nodes[i].outputs)
      if (o == t) return static_cast<std::int64_t>(i);
  return -1;
}

std::vector<std::size_t> Graph::consumers(const std::string& t) const {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (std::find(nodes[i].inputs.begin(), nodes[i].inputs.end(), t) != nodes[i].inputs.end()) out.push_back(i);
  return out;
}

const Node* Graph::find_node(const std::string& node_name) const {
  for (const auto& n : nodes)
    if (n.name == node_name) return &n;
  return nullptr;
}

void Graph::sort_topologically() {
  std::set<std::string> available;
  for (const auto& [n, t] : tensors)
    if (t.is_initializer) available.insert(n);
  for (const auto& i : inputs) available.insert(i);

  // Kahn's algorithm taking the lowest-index ready node each time: the original order is kept
  // whenever it already is topological, in O(n log n) (100k-node models load in seconds).
  std::vector<std::size_t> pending(nodes.size(), 0);           // inputs not yet available
  std::map<std::string, std::vector<std::size_t>> waiting;     // tensor -> nodes that read it
  std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    for (const auto& in : nodes[i].inputs)
      if (!in.empty() && !available.count(in)) {
        ++pending[i];
        waiting[in].push_back(i);
      }
    if (pending[i] == 0) ready.push(i);
  }
  std::vector<Node> sorted;
  std::vector<bool> done(nodes.size(), false);
  sorted.reserve(nodes.size());
  while (!ready.empty()) {
    const std::size_t i = ready.top();
    ready.pop();
    done[i] = true;
    for (const auto& o : nodes[i].outputs) {
      if (o.empty() || !available.insert(o).second) continue;
      if (const auto it = waiting.find(o); it != waiting.end())
        for (const std::size_t j : it->second)
          if (--pending[j] == 0) ready.push(j);
    }
    sorted.push_back(std::move(nodes[i]));
  }
  if (sorted.size() < nodes.size()) {
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (done[i]) continue;
      for (const auto& in : nodes[i].inputs)
        if (!in.empty() && !available.count(in))
          throw std::runtime_error(nodes[i].describe() + ": input '" + display_name(in) +
                                   "' is produced by no node, graph input or initializer (or the graph has a cycle)");
    }
  }
  nodes = std::move(sorted);
}

void Graph::validate() const {
  std::set<std::string> available;
  for (const auto& [n, t] : tensors)
    if (t.is_initializer) available.insert(n);
  for (const auto& i : inputs) {
    if (!tensors.count(i)) throw std::runtime_error("graph input '" + display_name(i) + "' has no tensor entry");
    available.insert(i);
  }
  for (const auto& n : nodes) {
    for (const auto& in : n.inputs) {
      if (in.empty()) continue;
      if (!available.count(in))
        throw std::runtime_error(n.describe() + ": input '" + display_name(in) + "' is not produced before the node");
      if (!tensors.count(in)) throw std::runtime_error(n.describe() + ": input '" + display_name(in) + "' has no tensor entry");
    }
    for (const auto& o : n.outputs) {
      if (o.empty()) continue;
      if (!tensors.count(o)) throw std::runtime_error(n.describe() + ": output '" + display_name(o) + "' has no tensor entry");
      available.insert(o);
    }
  }
  for (const auto& o : outputs)
    if (!available.count(o)) throw std::runtime_error("graph output '" + display_name(o) + "' is produced by no node");
}

}  // namespace statiq::codegen::ir
