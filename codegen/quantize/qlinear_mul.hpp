// codegen/quantize/qlinear_mul.hpp — a Mul layer's parameters (statiq/arith/qlinear_mul.hpp) from
// the quantization of its two inputs and its output: what simulate/ and emit/ use.
#pragma once

#include <stdexcept>

#include "codegen/model/lowered_model.hpp"
#include "statiq/arith/qlinear_mul.hpp"
#include "statiq/core/qint.hpp"

namespace statiq::codegen {

inline arith::qlinear_mul_params qlinear_mul_params(const LoweredModel& m, const Layer& l) {
  if (l.inputs.size() != 2 || l.inputs[0] < 0 || l.inputs[1] < 0 || std::size_t(l.inputs[0]) >= m.layers.size() ||
      std::size_t(l.inputs[1]) >= m.layers.size())
    throw std::runtime_error("node '" + l.name + "' (Mul): it reads two earlier layers (lowering bug)");
  const TensorQuantization& a = m.layers[std::size_t(l.inputs[0])].output;
  const TensorQuantization& b = m.layers[std::size_t(l.inputs[1])].output;
  const TensorQuantization& y = l.output;
  return arith::make_qlinear_mul({a.scale, a.zero_point}, {b.scale, b.zero_point}, {y.scale, y.zero_point},
                                 {qmin(8, y.is_signed), qmax(8, y.is_signed)});
}

}  // namespace statiq::codegen
