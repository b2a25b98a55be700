// Akida 1.0 averages before its activation: Conv -> GlobalAveragePool is a 1.0 layer, but
// Conv -> Relu -> GlobalAveragePool (the 2.0 order) is not (KO adds the ReLU).
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/akida_v1.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr Activation activation = relu;
#else
inline constexpr Activation activation = no_activation;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {8, 8, 16}, .filters = 16, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = activation,
                                              .pool = global_average_pool, .bits = {4, 4, 4}},
                      targets::akida_v1> {};
static_assert(conv1::valid);
