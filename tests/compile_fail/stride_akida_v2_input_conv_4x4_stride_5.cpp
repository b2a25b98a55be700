// Akida 2.0 InputConv2D: a 4x4 kernel strides 1 to 4 (the limit is 4 for this kernel); 5 is rejected.
#include "statiq/layers/input_conv2d.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr Stride stride{5, 5};
#else
inline constexpr Stride stride{4, 4};
#endif

struct conv_in : InputConv2D<"conv_in", ConvAttributes{.input = {32, 32, 3}, .filters = 16, .kernel = {4, 4},
                                                       .strides = stride, .pads = Pads::same, .activation = relu,
                                                       .bits = {8, 8, 8}},
                             targets::akida_v2> {};
static_assert(conv_in::valid);
