// Gemmini's outputs are int8; a 4-bit output is rejected.
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/gemmini.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int output_bits = 4;
#else
inline constexpr int output_bits = 8;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {16, 16, 8}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu,
                                              .bits = {8, 8, output_bits}, .signed_input = true,
                                              .signed_output = true},
                      targets::gemmini> {};
static_assert(conv1::valid);
