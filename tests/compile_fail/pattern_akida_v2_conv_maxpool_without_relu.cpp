// Akida 2.0 fuses MaxPool only after an activation: Conv -> Relu -> MaxPool is in its table,
// Conv -> MaxPool is not (KO drops the ReLU).
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr Activation activation = no_activation;
#else
inline constexpr Activation activation = relu;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {16, 16, 8}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = activation,
                                              .pool = max_pool(2, 2), .bits = {4, 4, 4}},
                      targets::akida_v2> {};
static_assert(conv1::valid);
