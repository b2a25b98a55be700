// codegen/normalize/graph_edit.hpp — INTERNAL to the normalisation passes: small queries and edits
// on ir::Graph (constants, fresh names, messages), and GraphEdit, the index of who writes and reads
// each tensor that lets a pass rewrite the graph in one visit. Not a codegen interface.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "codegen/emit/cpp_escape.hpp"  // display_name: names in messages
#include "codegen/ir/graph.hpp"

namespace statiq::codegen::normalize::edit {

bool is_graph_input(const ir::Graph& g, const std::string& name);

// The initializer called `name`, or nullptr (also for "" and for a name that is a graph input,
// whose value the caller may override).
const ir::Tensor* constant(const ir::Graph& g, const std::string& name);
// A float initializer with exactly one element: its value.
std::optional<float> scalar(const ir::Graph& g, const std::string& name);

// "BatchNormalization 'bn1'", names shown with display_name (as every message here shows them)
std::string label(const ir::Node& n);
std::string shape_of(const ir::Graph& g, const std::string& tensor);  // "[1,8,28,28]" or "(shape unknown)"
std::string number(double v);                                          // shortest round-trip form

// `base` if no tensor has that name, else base + "_1", "_2" ...
std::string fresh_name(const ir::Graph& g, const std::string& base);
// Adds a float32 initializer under a fresh name derived from `base`; returns the name.
std::string add_initializer(ir::Graph& g, const std::string& base, ir::Dims shape, std::vector<float> values);

// Per-channel view of a constant added to `out_shape` (rank >= 2, channels on axis 1): its shape,
// right-aligned to out_shape as numpy broadcasting does, is 1 on every axis except possibly axis 1
// where it is 1 or C. Returns C values (a one-element constant repeated), or nullopt.
std::optional<std::vector<float>> per_channel(const ir::Tensor& c, const ir::Dims& out_shape);

}  // namespace statiq::codegen::normalize::edit

namespace statiq::codegen::normalize {

// One pass's view of the graph: which node writes each tensor and how many places read it, built
// once and kept up to date by the edits below. Finding these by scanning every node made each
// rewrite O(nodes) and the passes quadratic (a 100k-node graph took 476 s); with the index a pass
// visits each node once. Node indices stay valid during the pass: erase() only marks a node, and
// commit() removes the marked ones together at the end.
class GraphEdit {
 public:
  explicit GraphEdit(ir::Graph& g);
  GraphEdit(const GraphEdit&) = delete;
  GraphEdit& operator=(const GraphEdit&) = delete;

  ir::Graph& graph() { return g_; }
  const ir::Graph& graph() const { return g_; }
  bool erased(std::size_t node) const { return erased_[node]; }

  bool is_graph_input(const std::string& t) const { return inputs_.count(t) != 0; }
  bool is_graph_output(const std::string& t) const;
  // Number of places reading `t`: node input slots plus graph outputs.
  std::size_t use_count(const std::string& t) const;
  // The live node writing `t`; nullopt for graph inputs and initializers.
  std::optional<std::size_t> producer(const std::string& t) const;
  // The only node reading `t` (once) when nothing else (no graph output) reads it.
  std::optional<std::size_t> sole_consumer(const std::string& t) const;
  // As edit::constant, without scanning the graph inputs.
  const ir::Tensor* constant(const std::string& t) const;
  // "Conv 'conv1'", "graph input 'x'", "initializer 'w'": where a tensor comes from, for messages.
  std::string origin(const std::string& t) const;

  // Input `slot` of `node` reads `t` (the input list grows with "" if needed).
  void set_input(std::size_t node, std::size_t slot, const std::string& t);
  // `node` reads exactly `inputs`; tensors nothing references any more are dropped.
  void set_inputs(std::size_t node, const std::vector<std::string>& inputs);
  // Output `slot` of `node` writes `t`; the tensor it wrote before is dropped if unreferenced.
  void set_output(std::size_t node, std::size_t slot, const std::string& t);
  // Marks `node` erased; the tensors it read or wrote are dropped if nothing references them.
  void erase(std::size_t node);
  // Makes input `input` of node `node` an initializer no other place reads (copying it under a fresh
  // name if shared), so the caller may change its data. Returns it.
  ir::Tensor& exclusive_initializer(std::size_t node, std::size_t input);
  // Drops the tensor entry `t` if no node reads or writes it and it is no graph input or output.
  void drop_if_unreferenced(const std::string& t);
  // Removes the erased nodes, keeping the order of the others. Call once, at the end of the pass.
  void commit();

 private:
  struct Uses {
    std::size_t node_reads = 0;  // input slots of live nodes
    std::size_t reader_sum = 0;  // sum of their node indices: the reader itself when node_reads == 1
    std::optional<std::size_t> producer;
  };
  void index_nodes();
  void read(const std::string& t, std::size_t node);
  void unread(const std::string& t, std::size_t node);

  ir::Graph& g_;
  std::unordered_map<std::string, Uses> uses_;
  std::unordered_map<std::string, std::size_t> output_reads_;  // graph outputs, with repetitions
  std::unordered_set<std::string> inputs_;
  std::vector<bool> erased_;
};

}  // namespace statiq::codegen::normalize
