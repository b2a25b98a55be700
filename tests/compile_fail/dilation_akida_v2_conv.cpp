// Akida 2.0 has no dilated convolution: dilation 2 is rejected.
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr Dilation dilation{2, 2};
#else
inline constexpr Dilation dilation{1, 1};
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {16, 16, 8}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu, .bits = {4, 4, 4},
                                              .dilations = dilation},
                      targets::akida_v2> {};
static_assert(conv1::valid);
