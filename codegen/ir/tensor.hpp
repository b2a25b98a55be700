// codegen/ir/tensor.hpp — statiq IR tensors: a named value of the graph with its element type,
// its (inferred) shape and, for initializers, its data (float, or int64 for shape tensors).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace statiq::codegen::ir {

// Element types the IR keeps apart. Every floating type of ONNX is held as float32 data and
// every integer or bool type as int64 data (the executor computes shapes on int64), but the
// original type is kept for diagnostics and for Cast.
enum class DataType { undefined, float32, float64, float16, int8, uint8, int16, uint16, int32, int64, uint32, uint64, boolean, string };

std::string_view to_string(DataType t);
bool is_floating(DataType t);
// The ONNX TensorProto::DataType number of t and back (undefined for types the IR lacks).
int to_onnx_elem_type(DataType t);
DataType from_onnx_elem_type(int elem_type);

// A dimension of -1 is unknown (dynamic and not resolved by shape inference).
using Dims = std::vector<std::int64_t>;

std::string to_string(const Dims& dims);  // "[1,3,32,32]"
// Number of elements; throws if a dimension is unknown.
std::int64_t element_count(const Dims& dims);

struct Tensor {
  std::string name;
  DataType dtype = DataType::undefined;
  // Empty optional: even the rank is unknown. Otherwise one entry per axis (-1 if unknown).
  std::optional<Dims> shape;

  // Initializer data, C order; exactly one is filled for an initializer.
  bool is_initializer = false;
  std::vector<float> float_data;
  std::vector<std::int64_t> int64_data;

  bool has_static_shape() const;
};

}  // namespace statiq::codegen::ir
