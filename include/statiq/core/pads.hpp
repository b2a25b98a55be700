// statiq/core/pads.hpp — padding of a convolution or pooling window: explicit ONNX pads,
// or the Keras/TensorFlow "same" / "valid" conventions that Akida uses, and their resolution.
#pragma once

#include "statiq/core/shape.hpp"

namespace statiq {

enum class PadMode { explicit_pads, same, valid };

// ONNX order: [top, left, bottom, right] = [x1_begin, x2_begin, x1_end, x2_end].
struct Pads {
  int top = 0;
  int left = 0;
  int bottom = 0;
  int right = 0;
  PadMode mode = PadMode::explicit_pads;

  static const Pads same;
  static const Pads valid;

  constexpr bool operator==(const Pads&) const = default;
};

inline constexpr Pads Pads::same{0, 0, 0, 0, PadMode::same};
inline constexpr Pads Pads::valid{0, 0, 0, 0, PadMode::valid};

// Total padding of "same" along one axis (TensorFlow convention: the odd pixel at the end).
constexpr int same_total_padding(int in, int kernel, int stride, int dilation = 1) {
  const int k = (kernel - 1) * dilation + 1;
  const int out = (in + stride - 1) / stride;
  const int total = (out - 1) * stride + k - in;
  return total > 0 ? total : 0;
}

// Explicit pads for a window over `in` (mode resolved; explicit pads are returned as given).
constexpr Pads resolve_pads(Pads p, Shape in, Kernel k, Stride s, Dilation d = {}) {
  if (p.mode == PadMode::explicit_pads) return p;
  if (p.mode == PadMode::valid) return Pads{};
  const int th = same_total_padding(in.h, k.h, s.h, d.h);
  const int tw = same_total_padding(in.w, k.w, s.w, d.w);
  return Pads{th / 2, tw / 2, th - th / 2, tw - tw / 2};
}

// Output extent of a window along one axis (floor mode, as ONNX Conv and default pooling).
constexpr int window_output(int in, int pad_begin, int pad_end, int kernel, int stride, int dilation = 1) {
  const int k = (kernel - 1) * dilation + 1;
  const int span = in + pad_begin + pad_end - k;
  return span < 0 ? 0 : span / stride + 1;
}

constexpr Shape window_output_shape(Shape in, int channels, Kernel k, Stride s, Pads p, Dilation d = {}) {
  const Pads r = resolve_pads(p, in, k, s, d);
  return Shape{window_output(in.h, r.top, r.bottom, k.h, s.h, d.h),
               window_output(in.w, r.left, r.right, k.w, s.w, d.w), channels};
}

}  // namespace statiq
