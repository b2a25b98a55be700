// statiq/kernels/reference/lookup_table.hpp — y[i] = table[byte of x[i]]: an elementwise function of
// an 8-bit tensor as a 256-entry table indexed by the input's byte (an int8 -1 is entry 255), the
// way onnxruntime's QLinearLeakyRelu / QLinearSigmoid index theirs. The definition.
#pragma once

#include <cstdint>

namespace statiq::kernels::reference {

template <class X, class T, class Y>
void lookup_table(const X* x, int n, const T* table, Y* y) {
  for (int i = 0; i < n; ++i) y[i] = static_cast<Y>(table[static_cast<std::uint8_t>(x[i])]);
}

}  // namespace statiq::kernels::reference
