// statiq/layers/input_conv2d.hpp — InputConv2D: the first convolution, reading the image as
// unsigned 8-bit integers (its zero point is the padding value), as Akida's input layer does.
#pragma once

#include "statiq/layers/convolution.hpp"

namespace statiq {

template <fixed_string Name, ConvAttributes A, class Target>
struct InputConv2D : Convolution<LayerKind::input_conv2d, Name, A, Target> {
  using Convolution<LayerKind::input_conv2d, Name, A, Target>::Convolution;
};

}  // namespace statiq
