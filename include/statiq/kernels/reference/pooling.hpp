// statiq/kernels/reference/pooling.hpp — the scalar definitions of MaxPool, the window sums and
// divisors of AveragePool (ONNX count_include_pad semantics) and GlobalAveragePool's sums, NHWC.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>

#include "statiq/core/pads.hpp"
#include "statiq/core/shape.hpp"

namespace statiq::kernels::reference {

namespace detail {

// The input rows (or columns) [begin, end) that the window of output index o covers.
struct WindowSpan {
  int begin;
  int end;
};

constexpr WindowSpan window_span(int o, int stride, int pad_begin, int kernel, int in) {
  const int start = o * stride - pad_begin;
  return WindowSpan{std::max(start, 0), std::min(start + kernel, in)};
}

// Offset of pixel (h, w) of an NHWC tensor `width` pixels wide; h and w are never negative here.
constexpr std::size_t pixel_offset(int h, int w, int width, std::size_t channels) {
  return (static_cast<std::size_t>(h) * static_cast<std::size_t>(width) + static_cast<std::size_t>(w)) * channels;
}

}  // namespace detail

// y[oh][ow][c] = max of x over the window; padded positions are ignored (never win).
// x [in.h][in.w][in.c], y [out.h][out.w][in.c]. For int8/uint8 tensors and int32 accumulators
// alike. Pads are explicit; every window must overlap the input (ONNX requires pads < kernel).
template <class X, class T>
void max_pool(Shape in, Shape out, Kernel kernel, Stride strides, Pads pads, const X& x, T* y) {
  using std::size_t;
  const size_t channels = static_cast<size_t>(in.c);
  for (int oh = 0; oh < out.h; ++oh) {
    const detail::WindowSpan rows = detail::window_span(oh, strides.h, pads.top, kernel.h, in.h);
    for (int ow = 0; ow < out.w; ++ow) {
      const detail::WindowSpan cols = detail::window_span(ow, strides.w, pads.left, kernel.w, in.w);
      assert(rows.begin < rows.end && cols.begin < cols.end && "max_pool window lies in the padding");
      T* dst = y + detail::pixel_offset(oh, ow, out.w, channels);
      // The window's first valid pixel seeds the maximum, so no "minus infinity" is needed.
      const size_t first = detail::pixel_offset(rows.begin, cols.begin, in.w, channels);
      for (size_t c = 0; c < channels; ++c) dst[c] = static_cast<T>(x[first + c]);
      for (int ih = rows.begin; ih < rows.end; ++ih) {
        for (int iw = cols.begin; iw < cols.end; ++iw) {
          const size_t src = detail::pixel_offset(ih, iw, in.w, channels);
          for (size_t c = 0; c < channels; ++c) {
            const T v = static_cast<T>(x[src + c]);
            if (v > dst[c]) dst[c] = v;
          }
        }
      }
    }
  }
}

// AveragePool's numerator: sum[oh][ow][c] = sum over the window's valid positions of
// (x - zero_point). Padded positions add nothing (they stand for the real value 0); how many
// of them the mean counts is average_pool_divisor's business.
template <class Acc, class X>
void window_sum(Shape in, Shape out, Kernel kernel, Stride strides, Pads pads, const X& x,
                std::int32_t zero_point, Acc* sum) {
  using std::size_t;
  const size_t channels = static_cast<size_t>(in.c);
  const Acc zp = static_cast<Acc>(zero_point);
  for (int oh = 0; oh < out.h; ++oh) {
    const detail::WindowSpan rows = detail::window_span(oh, strides.h, pads.top, kernel.h, in.h);
    for (int ow = 0; ow < out.w; ++ow) {
      const detail::WindowSpan cols = detail::window_span(ow, strides.w, pads.left, kernel.w, in.w);
      Acc* dst = sum + detail::pixel_offset(oh, ow, out.w, channels);
      for (size_t c = 0; c < channels; ++c) dst[c] = Acc{0};
      for (int ih = rows.begin; ih < rows.end; ++ih) {
        for (int iw = cols.begin; iw < cols.end; ++iw) {
          const size_t src = detail::pixel_offset(ih, iw, in.w, channels);
          for (size_t c = 0; c < channels; ++c) dst[c] += static_cast<Acc>(x[src + c]) - zp;
        }
      }
    }
  }
}

// AveragePool's divisor at output (oh, ow), as ONNX defines it: count_include_pad = 0 counts
// the window's positions inside the input; count_include_pad = 1 also counts pad positions,
// but not positions beyond the pads (reachable only in ceil mode), as onnxruntime does.
constexpr int average_pool_divisor(Shape in, Kernel kernel, Stride strides, Pads pads, int oh, int ow,
                                   bool count_include_pad) {
  if (count_include_pad) {
    const int h0 = oh * strides.h - pads.top;
    const int w0 = ow * strides.w - pads.left;
    const int rows = std::min(h0 + kernel.h, in.h + pads.bottom) - h0;
    const int cols = std::min(w0 + kernel.w, in.w + pads.right) - w0;
    return rows * cols;
  }
  const detail::WindowSpan r = detail::window_span(oh, strides.h, pads.top, kernel.h, in.h);
  const detail::WindowSpan c = detail::window_span(ow, strides.w, pads.left, kernel.w, in.w);
  return (r.end - r.begin) * (c.end - c.begin);
}

// GlobalAveragePool's numerator: sum[c] = sum over all pixels of (x - zero_point); the
// 1 / (in.h * in.w) is folded into the output scale by the profile.
template <class Acc, class X>
void global_sum(Shape in, const X& x, std::int32_t zero_point, Acc* sum) {
  using std::size_t;
  const size_t channels = static_cast<size_t>(in.c);
  const size_t pixels = static_cast<size_t>(in.h) * static_cast<size_t>(in.w);
  const Acc zp = static_cast<Acc>(zero_point);
  for (size_t c = 0; c < channels; ++c) sum[c] = Acc{0};
  for (size_t p = 0; p < pixels; ++p) {
    const size_t src = p * channels;
    for (size_t c = 0; c < channels; ++c) sum[c] += static_cast<Acc>(x[src + c]) - zp;
  }
}

}  // namespace statiq::kernels::reference
