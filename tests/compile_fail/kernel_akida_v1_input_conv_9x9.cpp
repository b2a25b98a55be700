// Akida 1.0 InputConvolutional kernels are 3x3, 5x5 and 7x7; 9x9 is rejected.
#include "statiq/layers/input_conv2d.hpp"
#include "statiq/targets/akida_v1.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr Kernel kernel{9, 9};
#else
inline constexpr Kernel kernel{7, 7};
#endif

struct conv_in : InputConv2D<"conv_in", ConvAttributes{.input = {32, 32, 3}, .filters = 16, .kernel = kernel,
                                                       .pads = Pads::same, .activation = relu, .bits = {8, 8, 4}},
                             targets::akida_v1> {};
static_assert(conv_in::valid);
