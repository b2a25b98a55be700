// statiq/kernels/reference/concat.hpp — the scalar definition of channel concatenation (ONNX
// Concat on axis C of NHWC) of N inputs, with a per-input element transform or as a plain copy.
#pragma once

#include <cstddef>
#include <cstdint>

namespace statiq::kernels::reference {

// y[p][offset_i + c] = transform(i, x_i[p][c]) for every input i, pixel p and channel c < channels[i],
// where offset_i = channels[0] + ... + channels[i-1] and y has that sum of channels per pixel.
// inputs[i] is input i (anything indexable by std::size_t yielding an integer), all with the same
// number of pixels (h * w). transform(int input, std::int32_t q) returns the output integer: the
// layers pass the profile's rescale to the output's quantization, so it sees each input's index.
template <class T, class X, class Transform>
void concat(int pixels, int num_inputs, const X* inputs, const int* channels, T* y, Transform&& transform) {
  using std::size_t;
  size_t out_channels = 0;
  for (int i = 0; i < num_inputs; ++i) out_channels += static_cast<size_t>(channels[i]);
  for (size_t p = 0; p < static_cast<size_t>(pixels); ++p) {
    T* dst = y + p * out_channels;
    for (int i = 0; i < num_inputs; ++i) {
      const X& x = inputs[i];
      const size_t n = static_cast<size_t>(channels[i]);
      const size_t src = p * n;
      for (size_t c = 0; c < n; ++c) {
        dst[c] = static_cast<T>(transform(i, static_cast<std::int32_t>(x[src + c])));
      }
      dst += n;
    }
  }
}

// Concatenation where every input already has the output's quantization: a copy.
template <class T, class X>
void concat(int pixels, int num_inputs, const X* inputs, const int* channels, T* y) {
  concat(pixels, num_inputs, inputs, channels, y, [](int, std::int32_t q) { return q; });
}

}  // namespace statiq::kernels::reference
