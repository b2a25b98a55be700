// codegen/normalize/graph_edit.hpp — INTERNAL to the normalisation passes: small queries and edits
// on ir::Graph (constants, consumers, fresh names, exclusive initializers). Not a codegen interface.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "codegen/ir/graph.hpp"

namespace statiq::codegen::normalize::edit {

bool is_graph_input(const ir::Graph& g, const std::string& name);
bool is_graph_output(const ir::Graph& g, const std::string& name);

// The initializer called `name`, or nullptr (also for "" and for a name that is a graph input,
// whose value the caller may override).
const ir::Tensor* constant(const ir::Graph& g, const std::string& name);
// A float initializer with exactly one element: its value.
std::optional<float> scalar(const ir::Graph& g, const std::string& name);

// Number of places reading `name`: node input slots plus graph outputs.
std::size_t use_count(const ir::Graph& g, const std::string& name);
// Index of the only node reading `name` (once) when nothing else (no graph output) reads it.
std::optional<std::size_t> sole_consumer(const ir::Graph& g, const std::string& name);

// "Conv 'conv1'", "graph input 'x'", "initializer 'w'": where a tensor comes from, for messages.
std::string origin(const ir::Graph& g, const std::string& tensor);
// "BatchNormalization 'bn1'"
std::string label(const ir::Node& n);
std::string shape_of(const ir::Graph& g, const std::string& tensor);  // "[1,8,28,28]" or "(shape unknown)"
std::string number(double v);                                          // shortest round-trip form

// `base` if no tensor has that name, else base + "_1", "_2" ...
std::string fresh_name(const ir::Graph& g, const std::string& base);
// Adds a float32 initializer under a fresh name derived from `base`; returns the name.
std::string add_initializer(ir::Graph& g, const std::string& base, ir::Dims shape, std::vector<float> values);
// Makes input `input` of node `node` an initializer no other place reads (copying it under a fresh
// name if shared), so the caller may change its data. Returns it.
ir::Tensor& exclusive_initializer(ir::Graph& g, std::size_t node, std::size_t input);

// Every node input reading `from` reads `to` instead.
void replace_uses(ir::Graph& g, const std::string& from, const std::string& to);
// Drops a tensor entry if nothing references it any more (no node, graph input or output).
void drop_if_unreferenced(ir::Graph& g, const std::string& name);

// Per-channel view of a constant added to `out_shape` (rank >= 2, channels on axis 1): its shape,
// right-aligned to out_shape as numpy broadcasting does, is 1 on every axis except possibly axis 1
// where it is 1 or C. Returns C values (a one-element constant repeated), or nullopt.
std::optional<std::vector<float>> per_channel(const ir::Tensor& c, const ir::Dims& out_shape);

}  // namespace statiq::codegen::normalize::edit
