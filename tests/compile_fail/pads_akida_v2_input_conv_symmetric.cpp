// Akida 2.0 pads "same" with the odd pixel at the end: a 7x7 stride-2 input convolution on 224x224
// needs 5 pixels of padding, as [2, 2, 3, 3]; the symmetric [3, 3, 3, 3] of an MXNet ResNet50 export
// (also a 112x112 output) is rejected.
#include "statiq/layers/input_conv2d.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr Pads pads{3, 3, 3, 3};
#else
inline constexpr Pads pads{2, 2, 3, 3};
#endif

struct conv1 : InputConv2D<"conv1", ConvAttributes{.input = {224, 224, 3}, .filters = 64, .kernel = {7, 7},
                                                   .strides = {2, 2}, .pads = pads, .activation = relu,
                                                   .bits = {8, 8, 8}},
                           targets::akida_v2> {};
static_assert(conv1::valid);
