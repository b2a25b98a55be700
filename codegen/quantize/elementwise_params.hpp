// codegen/quantize/elementwise_params.hpp — an Elementwise layer's parameters (QLinearMul's for Mul,
// the QDQ float form's for Max/Min/Sub; statiq/layers/elementwise.hpp) from the quantization of its
// two inputs and its output: what simulate/ and emit/ use.
#pragma once

#include <stdexcept>
#include <variant>

#include "codegen/model/lowered_model.hpp"
#include "statiq/layers/elementwise.hpp"
#include "statiq/core/qint.hpp"

namespace statiq::codegen {

inline ElementwiseParams elementwise_params(const LoweredModel& m, const Layer& l) {
  if (l.inputs.size() != 2 || l.inputs[0] < 0 || l.inputs[1] < 0 || std::size_t(l.inputs[0]) >= m.layers.size() ||
      std::size_t(l.inputs[1]) >= m.layers.size() || !std::holds_alternative<ElementwiseAttributes>(l.attributes))
    throw std::runtime_error("node '" + l.name + "' (Elementwise): it reads two earlier layers (lowering bug)");
  const TensorQuantization& a = m.layers[std::size_t(l.inputs[0])].output;
  const TensorQuantization& b = m.layers[std::size_t(l.inputs[1])].output;
  const TensorQuantization& y = l.output;
  const arith::output_bounds bounds{qmin(8, y.is_signed), qmax(8, y.is_signed)};
  ElementwiseParams p;
  if (std::get<ElementwiseAttributes>(l.attributes).op == ElementwiseOp::mul)
    p.mul = arith::make_qlinear_mul({a.scale, a.zero_point}, {b.scale, b.zero_point}, {y.scale, y.zero_point}, bounds);
  else
    p.qdq = arith::make_qdq_elementwise({a.scale, a.zero_point}, {b.scale, b.zero_point}, {y.scale, y.zero_point},
                                        bounds);
  return p;
}

}  // namespace statiq::codegen
