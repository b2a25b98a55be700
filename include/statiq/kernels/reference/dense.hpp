// statiq/kernels/reference/dense.hpp — the scalar definition of a quantized fully connected
// layer (ONNX Gemm / MatMul with a constant [out][in] weight) with runtime dimensions.
#pragma once

#include <cstddef>
#include <cstdint>

namespace statiq::kernels::reference {

// acc[o] = bias[o] + sum_i (x[i] - x_zero_point) * (w[o][i] - w_zero_point)
// w is [out_features][in_features] (row per output, so the inner loop is contiguous in both).
// bias may be null. X and W: anything indexable by std::size_t that yields an integer.
template <class Acc, class X, class W>
void dense(int in_features, int out_features, const X& x, std::int32_t x_zero_point, const W& w,
           std::int32_t w_zero_point, const std::int32_t* bias, Acc* acc) {
  using std::size_t;
  const Acc x_zp = static_cast<Acc>(x_zero_point);
  const Acc w_zp = static_cast<Acc>(w_zero_point);
  const size_t n = static_cast<size_t>(in_features);
  const size_t m = static_cast<size_t>(out_features);
  for (size_t o = 0; o < m; ++o) {
    const size_t row = o * n;
    Acc sum = bias ? static_cast<Acc>(bias[o]) : Acc{0};
    for (size_t i = 0; i < n; ++i) {
      sum += (static_cast<Acc>(x[i]) - x_zp) * (static_cast<Acc>(w[row + i]) - w_zp);
    }
    acc[o] = sum;
  }
}

}  // namespace statiq::kernels::reference
