// Akida 1.0 has no grouped convolution: group 2 (8 channels in 2 groups of 4) is rejected.
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/akida_v1.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int group = 2;
#else
inline constexpr int group = 1;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {16, 16, 8}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu, .bits = {4, 4, 4},
                                              .group = group},
                      targets::akida_v1> {};
static_assert(conv1::valid);
