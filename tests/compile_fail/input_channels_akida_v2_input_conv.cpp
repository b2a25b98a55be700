// Akida 2.0's input layer reads 1 (grey) or 3 (RGB) channels; RGBA (4) is rejected.
#include "statiq/layers/input_conv2d.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int channels = 4;
#else
inline constexpr int channels = 3;
#endif

struct conv_in : InputConv2D<"conv_in", ConvAttributes{.input = {32, 32, channels}, .filters = 16, .kernel = {3, 3},
                                                       .pads = Pads::same, .activation = relu, .bits = {8, 8, 8}},
                             targets::akida_v2> {};
static_assert(conv_in::valid);
