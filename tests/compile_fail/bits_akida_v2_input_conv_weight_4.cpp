// Akida 2.0 InputConv2D takes 8-bit weights only (4-bit weights are for the other convolutions).
#include "statiq/layers/input_conv2d.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int weight_bits = 4;
#else
inline constexpr int weight_bits = 8;
#endif

struct conv_in : InputConv2D<"conv_in", ConvAttributes{.input = {32, 32, 3}, .filters = 16, .kernel = {3, 3},
                                                       .pads = Pads::same, .activation = relu,
                                                       .bits = {8, weight_bits, 8}},
                             targets::akida_v2> {};
static_assert(conv_in::valid);
