// codegen/exec/array.hpp — the run-time tensor of the float reference executor: a dense C-order
// (NCHW for activations) array of float32 or int64 values with its shape.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "codegen/ir/tensor.hpp"

namespace statiq::codegen::exec {

// Floating dtypes (float32/float64/float16) are computed in float32 and stored in `f`; integer and
// bool dtypes (shape computations, indices, masks) in `i`. `dtype` keeps the ONNX type.
struct Array {
  ir::DataType dtype = ir::DataType::float32;
  ir::Dims shape;
  std::vector<float> f;
  std::vector<std::int64_t> i;
  // The float values of an initializer the executor lends instead of copying, `f` then empty:
  // Conv's weights only (the largest arrays; a copy per node and sample in flight was 75 MB per
  // thread on a legalised ResNet-50), which conv reads through values().
  const std::vector<float>* lent = nullptr;
  const std::vector<float>& values() const { return lent ? *lent : f; }

  bool is_float() const { return ir::is_floating(dtype); }
  std::int64_t size() const { return ir::element_count(shape); }
  std::int64_t rank() const { return static_cast<std::int64_t>(shape.size()); }

  static Array floats(ir::Dims shape, std::vector<float> values = {});  // zero-filled if values is empty
  static Array ints(ir::Dims shape, std::vector<std::int64_t> values = {}, ir::DataType dtype = ir::DataType::int64);
  // The data of an IR initializer.
  static Array from_tensor(const ir::Tensor& t);
};

}  // namespace statiq::codegen::exec
