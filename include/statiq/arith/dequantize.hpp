// statiq/arith/dequantize.hpp — an integer back to its real value, the same in every profile:
// ONNX DequantizeLinear's (q - zero_point) * scale, one float32 multiply (a power of two on Akida).
#pragma once

#include <cstdint>

namespace statiq::arith {

constexpr float dequantize(std::int32_t q, float scale, std::int32_t zero_point) {
  return static_cast<float>(q - zero_point) * scale;
}

}  // namespace statiq::arith
