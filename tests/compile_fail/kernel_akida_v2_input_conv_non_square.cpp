// Akida 2.0 InputConv2D kernels are square (3x3, 4x4, 5x5, 7x7); 3x5 is rejected.
#include "statiq/layers/input_conv2d.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr Kernel kernel{3, 5};
#else
inline constexpr Kernel kernel{5, 5};
#endif

struct conv_in : InputConv2D<"conv_in", ConvAttributes{.input = {32, 32, 3}, .filters = 16, .kernel = kernel,
                                                       .pads = Pads::same, .activation = relu, .bits = {8, 8, 8}},
                             targets::akida_v2> {};
static_assert(conv_in::valid);
