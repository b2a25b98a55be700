// Akida 1.0 InputConvolutional on 1 channel with a 5x5 kernel has at most 192 filters.
#include "statiq/layers/input_conv2d.hpp"
#include "statiq/targets/akida_v1.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int filters = 193;
#else
inline constexpr int filters = 192;
#endif

struct conv_in : InputConv2D<"conv_in", ConvAttributes{.input = {28, 28, 1}, .filters = filters, .kernel = {5, 5},
                                                       .pads = Pads::same, .activation = relu, .bits = {8, 8, 4}},
                             targets::akida_v1> {};
static_assert(conv_in::valid);
