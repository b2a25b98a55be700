// Akida 1.0 has no clipped ReLU: Conv -> Relu is in its table, Conv -> Clip is not.
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/akida_v1.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr Activation activation = clipped_relu;
#else
inline constexpr Activation activation = relu;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {16, 16, 8}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = activation, .bits = {4, 4, 4}},
                      targets::akida_v1> {};
static_assert(conv1::valid);
