// codegen/quantize/lookup_table.hpp — the 256 output codes of a LookupTable layer, built as the
// runtime the target matches builds them (cpu_int8: onnxruntime).
#pragma once

#include <cstdint>
#include <vector>

#include "codegen/model/lowered_model.hpp"

namespace statiq::codegen {

// f(x) in float32 exactly as onnxruntime 1.30 computes it on x86-64 (FMA3): LeakyRelu and Sigmoid as
// in its QLinearLeakyRelu / QLinearSigmoid tables (MLAS's logistic kernel), Tanh as MLAS's tanh
// kernel, HardSigmoid as its Eigen functor (multiply, then add: no fused multiply-add), HardSwish as
// ONNX's function body (x * HardSigmoid(x; 1/6, 1/2)), which onnxruntime runs op by op; Max, Min,
// Add, Sub, Mul, Div with a constant as its float kernels (one rounding each).
float onnxruntime_float_function(LookupFunction f, float alpha, float beta, float x);

// The table of onnxruntime's QlinearBuildLookupTable: entry b (the input byte; an int8 -1 is entry
// 255) = QuantizeLinear(f(x_scale * (code(b) - x_zero_point)), y) with MLAS's rounding. Where
// onnxruntime does not fuse DQ -> op -> Q into a table (Tanh, HardSigmoid, HardSwish; int8 on x86)
// it computes the same three steps in float, so the same table gives its results too.
std::vector<std::int32_t> qlinear_lookup_table(const LookupTableAttributes& a, const TensorQuantization& x,
                                               const TensorQuantization& y);

}  // namespace statiq::codegen
