// codegen/exec/float_executor.hpp — the float reference executor: runs a statiq IR graph with ONNX
// (opset 13..18) semantics on float32 NCHW arrays, optionally reporting every intermediate tensor.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "codegen/exec/array.hpp"
#include "codegen/ir/graph.hpp"

namespace statiq::codegen::exec {

// Called once for every tensor a node produces, right after the node ran (calibration observers
// hook in here without keeping all intermediates alive).
using Observer = std::function<void(const ir::Node& node, const std::string& tensor, const Array& value)>;

struct RunOptions {
  bool record_intermediates = false;  // fill RunResult::tensors with every node output
  Observer observer;                  // optional
};

struct RunResult {
  std::vector<Array> outputs;            // in the order of Graph::outputs
  std::map<std::string, Array> tensors;  // every node output, if record_intermediates
};

class FloatExecutor {
 public:
  // Keeps a reference to `graph`, which must outlive the executor and keep its initializers as
  // they are: a run lends a Conv its weights (Array::lent) and copies the other initializers
  // (biases, shapes) just while their node runs, so the executor holds no second copy of the
  // weights (225 MB for a legalised ResNet-50).
  // Throws "node 'X' (OpType): not supported by the float executor" for the first node it
  // cannot run, so a model fails before any sample is processed.
  explicit FloatExecutor(const ir::Graph& graph);

  // `inputs` in the order of Graph::inputs. Input shapes must match the graph's static shapes.
  RunResult run(const std::vector<Array>& inputs, const RunOptions& options = {}) const;

  static bool supports(const std::string& op_type, const std::string& domain = "");
  static std::vector<std::string> supported_op_types();
  // What the constructor refuses (opset, the first unsupported node), without copying anything.
  static void check_supported(const ir::Graph& graph);
  // One node on its inputs (nullptr: an omitted optional input), as run() computes it; errors name the node.
  static void run_node(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs);

 private:
  const ir::Tensor* initializer(const std::string& name) const;  // nullptr: not an initializer

  const ir::Graph& graph_;
};

// Gives every tensor a static shape where ONNX shape inference left one unknown (ONNX 1.12 does
// not propagate values through e.g. Cast, so ppocr_cls's Shape->Cast->Slice->Concat->Reshape
// output stays unknown): runs the graph once on zero inputs and takes the shapes the executor
// computed. Needs static graph input shapes; does nothing if the graph has no unknown shape or
// holds an op the executor cannot run. Returns the names of tensors still without a static shape.
std::vector<std::string> complete_shapes(ir::Graph& graph);

}  // namespace statiq::codegen::exec
