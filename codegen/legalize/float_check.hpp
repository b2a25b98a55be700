// codegen/legalize/float_check.hpp — the legalization's float check: the versions of the graph the
// rewrites produce, run on the check samples after the last rewrite, sample by sample, each version
// recomputing only the nodes whose inputs changed.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "codegen/exec/array.hpp"
#include "codegen/ir/graph.hpp"
#include "codegen/legalize/legalize.hpp"

namespace statiq::codegen::legalize {

// Why not one float executor run per rewrite: on a 25 M-parameter ResNet-50 the 12 rewrites made
// 104 whole-graph runs on 8 samples, 2/3 of the generator's time. A rewrite changes one place of
// the graph, so most nodes of a version see the very inputs they saw in the version before, and
// an exact rewrite often gives bit-identical outputs right after the nodes it touched.
// FloatCheck keeps, per sample, the last value of every tensor with what computed it (the node
// and the identities of its input values) and recomputes a node only when that changed. A value
// recomputed bit for bit equal to its previous one keeps its identity, so the nodes after it are
// not recomputed either. Each op is a deterministic function of its node and input bits, so every
// version's outputs are the bits a whole-graph FloatExecutor run gives (legalize_test checks it).
// Memory: one sample's tensors per thread, instead of one copy of the initializers per run.
class FloatCheck {
 public:
  // How a sample (an input of the original graph) becomes the version's graph input.
  struct InputMap {
    InputPadding padding;
    std::vector<float> scale, offset;
  };

  // Records the graph as it is now (nodes, inputs, outputs; initializers are read at run() from
  // the graph given there, plus `extra`: initializers only this version has) and returns its index.
  // The graph's initializers must not change in place afterwards (rewrites add new ones).
  std::size_t add(const ir::Graph& graph, InputMap input, std::map<std::string, exec::Array> extra = {});
  std::size_t size() const { return versions_.size(); }

  // outputs[v][s]: version v's graph outputs on samples[s], flattened and concatenated in the
  // order of the graph outputs (float outputs only), as FloatExecutor::run gives them. `graph`
  // holds every version's initializers (the rewrites' new ones beside the ones they replaced): their
  // data is lent to the run (moved out, and back before run() returns or throws), so the weights are
  // not copied. Samples run in parallel, each into its own slot.
  std::vector<std::vector<std::vector<float>>> run(ir::Graph& graph, const std::vector<exec::Array>& samples) const;

 private:
  struct Version {
    std::vector<ir::Node> nodes;
    std::vector<std::string> inputs, outputs;
    InputMap input;
    std::map<std::string, exec::Array> extra;
  };
  std::vector<Version> versions_;
};

}  // namespace statiq::codegen::legalize
