// Akida 1.0 InputConvolutional strides 1 to 3 whatever the kernel; 4 is rejected.
#include "statiq/layers/input_conv2d.hpp"
#include "statiq/targets/akida_v1.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr Stride stride{4, 4};
#else
inline constexpr Stride stride{3, 3};
#endif

struct conv_in : InputConv2D<"conv_in", ConvAttributes{.input = {32, 32, 3}, .filters = 16, .kernel = {5, 5},
                                                       .strides = stride, .pads = Pads::same, .activation = relu,
                                                       .bits = {8, 8, 4}},
                             targets::akida_v1> {};
static_assert(conv_in::valid);
