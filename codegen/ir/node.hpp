// codegen/ir/node.hpp — statiq IR nodes: an ONNX operator instance with its name (the name every
// diagnostic uses), op_type, domain, input/output tensor names and typed attributes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "codegen/ir/tensor.hpp"

namespace statiq::codegen::ir {

// An attribute kind the IR does not model (GRAPH, SPARSE_TENSOR, TYPE_PROTO ...); kept so that
// the op using it fails with a clear message instead of silently losing it.
struct OpaqueAttribute {
  std::string kind;
};

using AttributeValue = std::variant<std::int64_t, float, std::string, std::vector<std::int64_t>, std::vector<float>,
                                    std::vector<std::string>, Tensor, OpaqueAttribute>;

struct Node {
  std::string name;     // the ONNX node name, or op_type + "_" + index when the model has none
  std::string op_type;  // "Conv", "Gemm", ...
  std::string domain;   // "" for the default ONNX domain
  std::vector<std::string> inputs;   // "" marks an omitted optional input
  std::vector<std::string> outputs;  // "" marks an omitted optional output
  std::map<std::string, AttributeValue> attributes;

  bool has_attribute(const std::string& key) const { return attributes.count(key) != 0; }
  // Typed getters: the default when absent; throw (naming node and attribute) on a wrong kind.
  std::int64_t attr_int(const std::string& key, std::int64_t fallback) const;
  float attr_float(const std::string& key, float fallback) const;
  std::string attr_string(const std::string& key, const std::string& fallback) const;
  std::vector<std::int64_t> attr_ints(const std::string& key, const std::vector<std::int64_t>& fallback) const;
  std::vector<float> attr_floats(const std::string& key, const std::vector<float>& fallback) const;
  const Tensor& attr_tensor(const std::string& key) const;

  // Input i if present and not omitted.
  bool has_input(std::size_t i) const { return i < inputs.size() && !inputs[i].empty(); }

  // "node 'conv1' (Conv)": the prefix of every diagnostic about this node.
  std::string describe() const;
};

}  // namespace statiq::codegen::ir
