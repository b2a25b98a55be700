// Akida 1.0 InputConvolutional on 3 channels with a 7x7 kernel has at most 32 filters (TARGETS.md:
// 3 channels -> 192 / 64 / 32 for 3x3 / 5x5 / 7x7): 32 fit (OK), 33 do not (KO).
#include "statiq/layers/input_conv2d.hpp"
#include "statiq/targets/akida_v1.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int filters = 33;
#else
inline constexpr int filters = 32;
#endif

struct conv_in : InputConv2D<"conv_in", ConvAttributes{.input = {64, 64, 3}, .filters = filters, .kernel = {7, 7},
                                                       .strides = {2, 2}, .pads = Pads::same, .activation = relu,
                                                       .bits = {8, 8, 4}},
                             targets::akida_v1> {};
static_assert(conv_in::valid);
