// statiq/layers/conv2d.hpp — Conv2D: a convolution (pointwise 1x1 included) with its fused
// activation and pooling, e.g. Conv -> Relu -> MaxPool, checked against its target.
#pragma once

#include "statiq/layers/convolution.hpp"

namespace statiq {

template <fixed_string Name, ConvAttributes A, class Target>
struct Conv2D : Convolution<LayerKind::conv2d, Name, A, Target> {
  using Convolution<LayerKind::conv2d, Name, A, Target>::Convolution;
};

}  // namespace statiq
