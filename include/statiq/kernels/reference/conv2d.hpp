// statiq/kernels/reference/conv2d.hpp — the scalar definition of a quantized 2-D convolution
// (grouped, depthwise, strided, dilated, padded) in NHWC / OHWI with runtime dimensions.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>

#include "statiq/core/pads.hpp"
#include "statiq/core/shape.hpp"

namespace statiq::kernels::reference {

// Everything a convolution's loops need to know; pads are explicit (already resolved).
// Depthwise is group == in.c, with a channel multiplier of out.c / in.c.
struct Conv2DGeometry {
  Shape in;
  Shape out;
  Kernel kernel;
  Stride strides;
  Pads pads;
  Dilation dilations;
  int group = 1;

  constexpr int in_channels_per_group() const { return in.c / group; }
  constexpr int out_channels_per_group() const { return out.c / group; }
  // Elements of the OHWI weight tensor.
  constexpr int weight_size() const { return out.c * kernel.h * kernel.w * in_channels_per_group(); }
};

// The geometry of a convolution over `in`: pads resolved ("same" / "valid") and the output
// shape derived, so the code generator and the layer types cannot disagree on either.
constexpr Conv2DGeometry conv2d_geometry(Shape in, int out_channels, Kernel kernel, Stride strides,
                                         Pads pads, Dilation dilations = {}, int group = 1) {
  const Pads p = resolve_pads(pads, in, kernel, strides, dilations);
  return Conv2DGeometry{in, window_output_shape(in, out_channels, kernel, strides, p, dilations),
                        kernel, strides, p, dilations, group};
}

// acc[oh][ow][oc] = bias[oc] + sum over the window and the group's input channels of
//                   (x - x_zero_point) * (w - w_zero_point)
// x [in.h][in.w][in.c], w [out.c][kernel.h][kernel.w][in.c / group], acc [out.h][out.w][out.c].
// Padded positions contribute nothing, which equals padding with x_zero_point (ONNX, every target).
// bias may be null. X and W are anything indexable by std::size_t that yields an integer
// (raw int8/uint8/int32 pointers, statiq::qarray for packed sub-byte weights).
// The caller guarantees Acc cannot overflow (the layers check the worst case at compile time).
template <class Acc, class X, class W>
void conv2d(const Conv2DGeometry& g, const X& x, std::int32_t x_zero_point, const W& w,
            std::int32_t w_zero_point, const std::int32_t* bias, Acc* acc) {
  assert(g.group >= 1 && g.in.c % g.group == 0 && g.out.c % g.group == 0);
  assert(g.out.h == window_output(g.in.h, g.pads.top, g.pads.bottom, g.kernel.h, g.strides.h, g.dilations.h));
  assert(g.out.w == window_output(g.in.w, g.pads.left, g.pads.right, g.kernel.w, g.strides.w, g.dilations.w));

  using std::size_t;
  // Dimensions as indices once, so the loops below do no signed/unsigned juggling; only the
  // input row and column can fall outside the input (into the pads) and stay signed.
  const auto u = [](int v) { return static_cast<size_t>(v); };
  const size_t group_in = u(g.in.c / g.group);
  const size_t group_out = u(g.out.c / g.group);
  const size_t in_w = u(g.in.w), in_c = u(g.in.c);
  const size_t k_h = u(g.kernel.h), k_w = u(g.kernel.w);
  const size_t out_h = u(g.out.h), out_w = u(g.out.w), out_c = u(g.out.c);
  const Acc x_zp = static_cast<Acc>(x_zero_point);
  const Acc w_zp = static_cast<Acc>(w_zero_point);

  Acc* out = acc;
  for (size_t oh = 0; oh < out_h; ++oh) {
    const int ih0 = static_cast<int>(oh) * g.strides.h - g.pads.top;
    for (size_t ow = 0; ow < out_w; ++ow) {
      const int iw0 = static_cast<int>(ow) * g.strides.w - g.pads.left;
      for (size_t oc = 0; oc < out_c; ++oc, ++out) {
        const size_t ic0 = oc / group_out * group_in;
        Acc sum = bias ? static_cast<Acc>(bias[oc]) : Acc{0};
        for (size_t kh = 0; kh < k_h; ++kh) {
          const int ih = ih0 + static_cast<int>(kh) * g.dilations.h;
          if (ih < 0 || ih >= g.in.h) continue;
          for (size_t kw = 0; kw < k_w; ++kw) {
            const int iw = iw0 + static_cast<int>(kw) * g.dilations.w;
            if (iw < 0 || iw >= g.in.w) continue;
            const size_t xi = (u(ih) * in_w + u(iw)) * in_c + ic0;
            const size_t wi = ((oc * k_h + kh) * k_w + kw) * group_in;
            for (size_t ic = 0; ic < group_in; ++ic) {
              sum += (static_cast<Acc>(x[xi + ic]) - x_zp) * (static_cast<Acc>(w[wi + ic]) - w_zp);
            }
          }
        }
        *out = sum;
      }
    }
  }
}

}  // namespace statiq::kernels::reference
