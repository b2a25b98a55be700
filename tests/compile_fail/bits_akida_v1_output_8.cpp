// Akida 1.0 activations are 1, 2 or 4 bits; an 8-bit output (fine on 2.0) is rejected.
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/akida_v1.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int output_bits = 8;
#else
inline constexpr int output_bits = 4;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {16, 16, 8}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu,
                                              .bits = {4, 4, output_bits}},
                      targets::akida_v1> {};
static_assert(conv1::valid);
