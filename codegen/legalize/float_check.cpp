// codegen/legalize/float_check.cpp — see float_check.hpp.
#include "codegen/legalize/float_check.hpp"

#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

#include "codegen/exec/float_executor.hpp"
#include "codegen/exec/parallel_for.hpp"

namespace statiq::codegen::legalize {
namespace {

// Identity of a value: equal identities mean bit-identical values.
using ValueId = std::uint64_t;

bool same_tensor(const ir::Tensor& a, const ir::Tensor& b) {
  return a.name == b.name && a.dtype == b.dtype && a.shape == b.shape && a.is_initializer == b.is_initializer &&
         a.float_data == b.float_data && a.int64_data == b.int64_data;
}

bool same_attribute(const ir::AttributeValue& a, const ir::AttributeValue& b) {
  if (a.index() != b.index()) return false;
  return std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        const T& y = std::get<T>(b);
        if constexpr (std::is_same_v<T, ir::Tensor>) return same_tensor(x, y);
        else if constexpr (std::is_same_v<T, ir::OpaqueAttribute>) return x.kind == y.kind;
        else return x == y;
      },
      a);
}

// Everything an op reads from its node.
bool same_node(const ir::Node& a, const ir::Node& b) {
  if (a.op_type != b.op_type || a.domain != b.domain || a.inputs != b.inputs || a.outputs != b.outputs ||
      a.attributes.size() != b.attributes.size())
    return false;
  for (auto i = a.attributes.begin(), j = b.attributes.begin(); i != a.attributes.end(); ++i, ++j)
    if (i->first != j->first || !same_attribute(i->second, j->second)) return false;
  return true;
}

// Bit for bit (a float -0 is not +0, a NaN equals the same NaN): what the next op sees.
bool same_bits(const exec::Array& a, const exec::Array& b) {
  return a.dtype == b.dtype && a.shape == b.shape && a.f.size() == b.f.size() && a.i.size() == b.i.size() &&
         (a.f.empty() || std::memcmp(a.f.data(), b.f.data(), a.f.size() * sizeof(float)) == 0) &&
         (a.i.empty() || std::memcmp(a.i.data(), b.i.data(), a.i.size() * sizeof(std::int64_t)) == 0);
}

// An initializer as the ops read it, and its identity (distinct from every computed value's).
struct Constant {
  const exec::Array* value;
  ValueId id;
};

// The graph's initializers as executor arrays, their data moved out of the graph for the run and
// back when done (or on an exception): no second copy of the weights (225 MB on a legalised ResNet-50).
class BorrowedConstants {
 public:
  explicit BorrowedConstants(ir::Graph& graph) : graph_(graph) {
    ValueId id = 1;
    for (auto& [name, t] : graph_.tensors) {
      if (!t.is_initializer || !t.shape) continue;
      exec::Array a;
      a.dtype = t.dtype;
      a.shape = *t.shape;
      if (ir::is_floating(t.dtype)) a.f = std::move(t.float_data);
      else a.i = std::move(t.int64_data);
      arrays_.emplace(name, std::make_pair(std::move(a), id++));
    }
  }
  ~BorrowedConstants() {
    for (auto& [name, a] : arrays_) {
      ir::Tensor& t = graph_.tensors.at(name);
      if (ir::is_floating(t.dtype)) t.float_data = std::move(a.first.f);
      else t.int64_data = std::move(a.first.i);
    }
  }
  BorrowedConstants(const BorrowedConstants&) = delete;
  BorrowedConstants& operator=(const BorrowedConstants&) = delete;

  const std::pair<exec::Array, ValueId>* find(const std::string& name) const {
    const auto it = arrays_.find(name);
    return it == arrays_.end() ? nullptr : &it->second;
  }
  ValueId size() const { return ValueId(arrays_.size()); }

 private:
  // The graph is only lent: every tensor is as it was when the run returns.
  ir::Graph& graph_;
  std::map<std::string, std::pair<exec::Array, ValueId>> arrays_;
};

// One sample's tensors: the last value of each, its identity, and what computed it.
struct Slot {
  const ir::Node* node = nullptr;  // nullptr: the graph input
  std::vector<ValueId> input_ids;
  ValueId id = 0;
  exec::Array value;
};

}  // namespace

std::size_t FloatCheck::add(const ir::Graph& graph, InputMap input, std::map<std::string, exec::Array> extra) {
  if (graph.inputs.size() != 1) throw std::logic_error("FloatCheck: the graph must have one input");
  versions_.push_back(Version{graph.nodes, graph.inputs, graph.outputs, std::move(input), std::move(extra)});
  return versions_.size() - 1;
}

std::vector<std::vector<std::vector<float>>> FloatCheck::run(ir::Graph& graph,
                                                             const std::vector<exec::Array>& samples) const {
  std::vector<std::vector<std::vector<float>>> outputs(versions_.size(),
                                                       std::vector<std::vector<float>>(samples.size()));
  if (versions_.empty() || samples.empty()) return outputs;
  const BorrowedConstants constants(graph);
  // Identities: 1 .. constants.size() the shared initializers, then each version's own ones, then
  // (per sample, from `first_computed`) the computed values.
  std::vector<ValueId> extra_base(versions_.size());
  ValueId next_constant = constants.size() + 1;
  for (std::size_t v = 0; v < versions_.size(); ++v) {
    extra_base[v] = next_constant;
    next_constant += versions_[v].extra.size();
  }
  const ValueId first_computed = next_constant;

  exec::parallel_for(samples.size(), [&](std::size_t s) {
    std::map<std::string, Slot> slots;
    ValueId next = first_computed;
    for (std::size_t v = 0; v < versions_.size(); ++v) {
      const Version& version = versions_[v];
      auto constant = [&](const std::string& name) -> std::optional<Constant> {
        if (const auto it = version.extra.find(name); it != version.extra.end())
          return Constant{&it->second, extra_base[v] + ValueId(std::distance(version.extra.begin(), it))};
        if (const auto* c = constants.find(name)) return Constant{&c->first, c->second};
        return std::nullopt;
      };
      LegalizeResult map;
      map.input_padding = version.input.padding;
      map.input_scale = version.input.scale;
      map.input_offset = version.input.offset;
      {
        exec::Array x = legalized_input(samples[s], map);
        Slot& in = slots[version.inputs[0]];
        if (in.node || in.id == 0 || !same_bits(in.value, x)) in = Slot{nullptr, {}, next++, std::move(x)};
      }
      std::vector<const exec::Array*> values;
      std::vector<ValueId> ids;
      for (const ir::Node& node : version.nodes) {
        values.clear();
        ids.clear();
        for (const std::string& name : node.inputs) {
          if (name.empty()) {
            values.push_back(nullptr);
            ids.push_back(0);
          } else if (const auto c = constant(name)) {
            values.push_back(c->value);
            ids.push_back(c->id);
          } else if (const auto it = slots.find(name); it != slots.end() && it->second.id != 0) {
            values.push_back(&it->second.value);
            ids.push_back(it->second.id);
          } else {
            throw std::runtime_error(node.describe() + ": input '" + name + "' has no value");
          }
        }
        // The same node on the same input values: its outputs are the ones computed before.
        bool cached = true;
        for (const std::string& name : node.outputs) {
          if (name.empty()) continue;
          const auto it = slots.find(name);
          cached = cached && it != slots.end() && it->second.node && it->second.input_ids == ids &&
                   same_node(*it->second.node, node);
        }
        if (cached) continue;
        std::vector<exec::Array> outs(node.outputs.size());
        exec::FloatExecutor::run_node(node, values, outs);
        for (std::size_t o = 0; o < outs.size(); ++o) {
          const std::string& name = node.outputs[o];
          if (name.empty()) continue;
          Slot& slot = slots[name];
          const bool unchanged = slot.id != 0 && same_bits(slot.value, outs[o]);
          slot.node = &node;
          slot.input_ids = ids;
          if (!unchanged) slot.id = next++, slot.value = std::move(outs[o]);
        }
      }
      std::vector<float>& out = outputs[v][s];
      for (const std::string& name : version.outputs) {
        const exec::Array* y = nullptr;
        if (const auto c = constant(name)) y = c->value;
        else if (const auto it = slots.find(name); it != slots.end() && it->second.id != 0) y = &it->second.value;
        else throw std::runtime_error("graph output '" + name + "' was not computed");
        out.insert(out.end(), y->f.begin(), y->f.end());
      }
      // Tensors this version does not have (renamed by a rewrite) are not read again.
      std::map<std::string, Slot> kept;
      kept[version.inputs[0]] = std::move(slots[version.inputs[0]]);
      for (const ir::Node& node : version.nodes)
        for (const std::string& name : node.outputs)
          if (const auto it = slots.find(name); !name.empty() && it != slots.end()) kept[name] = std::move(it->second);
      slots = std::move(kept);
    }
  });
  return outputs;
}

}  // namespace statiq::codegen::legalize
