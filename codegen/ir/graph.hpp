// codegen/ir/graph.hpp — the statiq IR graph: nodes in topological order, every tensor (inputs,
// initializers, intermediates, outputs) by name with its inferred shape, and the opset it uses.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "codegen/ir/node.hpp"
#include "codegen/ir/tensor.hpp"

namespace statiq::codegen::ir {

// Invariants (established by the ONNX loader, checked by validate()):
// - nodes are topologically ordered: a node's inputs are graph inputs, initializers or outputs
//   of an earlier node;
// - every non-empty input/output name of a node has an entry in `tensors`;
// - inputs lists the graph inputs that are not initializers, in ONNX order; outputs likewise.
struct Graph {
  std::string name;
  std::string source;  // the file the graph was loaded from (for messages)
  std::int64_t opset = 13;  // default-domain opset the nodes follow, 13..18 (see load_onnx.hpp)
  std::vector<Node> nodes;
  std::map<std::string, Tensor> tensors;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;

  const Tensor& tensor(const std::string& name) const;  // throws naming the tensor if absent
  Tensor& tensor(const std::string& name);
  bool has_tensor(const std::string& name) const { return tensors.count(name) != 0; }

  // Index of the node producing `tensor`, or -1 for graph inputs and initializers.
  std::int64_t producer(const std::string& tensor) const;
  // Indices of the nodes reading `tensor`, in order.
  std::vector<std::size_t> consumers(const std::string& tensor) const;
  const Node* find_node(const std::string& node_name) const;

  // Reorders nodes topologically (stable: keeps the current order where it is valid). Throws on a
  // cycle or on an input nothing produces.
  void sort_topologically();
  // Throws std::runtime_error describing the first broken invariant.
  void validate() const;
};

}  // namespace statiq::codegen::ir
