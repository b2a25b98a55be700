// Akida 1.0 InputConvolutional, 3x3 stride 2 on 32x32: "same" pads one pixel in total, at the end
// ([0, 0, 1, 1]); symmetric [1, 1, 1, 1] gives the same 16x16 output but reads other pixels.
#include "statiq/layers/input_conv2d.hpp"
#include "statiq/targets/akida_v1.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr Pads pads{1, 1, 1, 1};
#else
inline constexpr Pads pads{0, 0, 1, 1};
#endif

struct conv_in : InputConv2D<"conv_in", ConvAttributes{.input = {32, 32, 3}, .filters = 32, .kernel = {3, 3},
                                                       .strides = {2, 2}, .pads = pads, .activation = relu,
                                                       .bits = {8, 8, 4}},
                             targets::akida_v1> {};
static_assert(conv_in::valid);
