// Akida 2.0 InputConv2D has at most 512 filters.
#include "statiq/layers/input_conv2d.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int filters = 513;
#else
inline constexpr int filters = 512;
#endif

struct conv_in : InputConv2D<"conv_in", ConvAttributes{.input = {32, 32, 3}, .filters = filters, .kernel = {3, 3},
                                                       .pads = Pads::same, .activation = relu, .bits = {8, 8, 8}},
                             targets::akida_v2> {};
static_assert(conv_in::valid);
