// Akida 1.0 Convolutional pads "same" only (3x3: one pixel each side); "valid" is rejected.
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/akida_v1.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr Pads pads = Pads::valid;
#else
inline constexpr Pads pads = Pads::same;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {16, 16, 8}, .filters = 8, .kernel = {3, 3}, .pads = pads,
                                              .activation = relu, .bits = {4, 4, 4}},
                      targets::akida_v1> {};
static_assert(conv1::valid);
