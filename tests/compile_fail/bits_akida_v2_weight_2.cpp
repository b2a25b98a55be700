// Akida 2.0 weights are 4 or 8 bits; 2-bit weights (valid elsewhere, e.g. on 1.0) are rejected.
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int weight_bits = 2;
#else
inline constexpr int weight_bits = 4;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {16, 16, 8}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu,
                                              .bits = {4, weight_bits, 4}},
                      targets::akida_v2> {};
static_assert(conv1::valid);
