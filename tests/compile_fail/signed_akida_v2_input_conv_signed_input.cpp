// Akida 2.0's input layer reads uint8 pixels; a signed (int8) input is rejected.
#include "statiq/layers/input_conv2d.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr bool signed_input = true;
#else
inline constexpr bool signed_input = false;
#endif

struct conv_in : InputConv2D<"conv_in", ConvAttributes{.input = {32, 32, 3}, .filters = 16, .kernel = {3, 3},
                                                       .pads = Pads::same, .activation = relu, .bits = {8, 8, 8},
                                                       .signed_input = signed_input},
                             targets::akida_v2> {};
static_assert(conv_in::valid);
