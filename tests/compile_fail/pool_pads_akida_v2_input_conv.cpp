// Akida 2.0 pools like Keras: a fused 3x3 stride-2 MaxPool on a 32x32 map pads "same" as [0, 0, 1, 1]
// (the odd pixel at the end). ONNX's symmetric [1, 1, 1, 1] (a ResNet stem) gives as many outputs but
// every window one pixel up and left: rejected rather than silently shifted.
#include "statiq/layers/input_conv2d.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr Pads pool_pads{1, 1, 1, 1};
#else
inline constexpr Pads pool_pads{0, 0, 1, 1};
#endif

struct conv_in : InputConv2D<"conv_in", ConvAttributes{.input = {32, 32, 3}, .filters = 16, .kernel = {3, 3},
                                                       .pads = Pads::same, .activation = relu,
                                                       .pool = max_pool(Kernel{3, 3}, Stride{2, 2}, pool_pads),
                                                       .bits = {8, 8, 8}},
                             targets::akida_v2> {};
static_assert(conv_in::valid);
