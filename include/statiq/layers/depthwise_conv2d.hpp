// statiq/layers/depthwise_conv2d.hpp — DepthwiseConv2D: one filter (or a channel multiplier's
// worth) per input channel; ONNX Conv with group == channels.
#pragma once

#include "statiq/layers/convolution.hpp"

namespace statiq {

// Attributes of a depthwise convolution: group defaults to the input channels and filters to
// one per channel, so only what differs needs saying.
constexpr ConvAttributes depthwise(ConvAttributes a) {
  if (a.group == 1) a.group = a.input.c;
  if (a.filters == 0) a.filters = a.input.c;
  return a;
}

template <fixed_string Name, ConvAttributes A, class Target>
struct DepthwiseConv2D : Convolution<LayerKind::depthwise_conv2d, Name, depthwise(A), Target> {
  using Convolution<LayerKind::depthwise_conv2d, Name, depthwise(A), Target>::Convolution;
};

}  // namespace statiq
