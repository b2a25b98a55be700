// codegen/exec/ops.hpp — INTERNAL to the float executor: the operator table and the helpers the
// operator files share. Not part of the codegen interface.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "codegen/exec/array.hpp"
#include "codegen/ir/node.hpp"

namespace statiq::codegen::exec::ops {

// inputs[k] is nullptr for an omitted optional input; outputs is sized to node.outputs.
using OpFn = void (*)(const ir::Node& node, const std::vector<const Array*>& inputs, std::vector<Array>& outputs);

// Each operator file registers its ops into the table (called once, in order).
void register_linear_ops(std::map<std::string, OpFn>& table);       // Conv, ConvTranspose, Gemm, MatMul
void register_elementwise_ops(std::map<std::string, OpFn>& table);  // arithmetic, activations, BN, Softmax
void register_pool_ops(std::map<std::string, OpFn>& table);         // MaxPool, AveragePool, Global*
void register_shape_ops(std::map<std::string, OpFn>& table);        // Reshape, Concat, Slice, Shape, ...

[[noreturn]] inline void fail(const std::string& what) { throw std::runtime_error(what); }

// Input k, which must be present.
const Array& in(const ir::Node& node, const std::vector<const Array*>& inputs, std::size_t k);
const Array& in_float(const ir::Node& node, const std::vector<const Array*>& inputs, std::size_t k);
// A present input holding int64 values (shape, axes, starts ...).
std::vector<std::int64_t> in_ints(const ir::Node& node, const std::vector<const Array*>& inputs, std::size_t k);

// ONNX negative axis -> [0, rank); throws if out of range.
std::int64_t normalize_axis(std::int64_t axis, std::int64_t rank);

// Spatial geometry shared by Conv, ConvTranspose and the pools (2-D: index 0 = H, 1 = W).
struct Window2D {
  std::int64_t kernel[2];
  std::int64_t stride[2];
  std::int64_t dilation[2];
  std::int64_t pad_begin[2];
  std::int64_t pad_end[2];
  std::int64_t out[2];
};
// Resolves kernel_shape/strides/dilations/pads/auto_pad/ceil_mode for input size in_hw.
Window2D resolve_window(const ir::Node& node, const std::int64_t in_hw[2], const std::int64_t kernel[2],
                        bool ceil_mode);

}  // namespace statiq::codegen::exec::ops
