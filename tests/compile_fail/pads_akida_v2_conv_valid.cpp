// Akida 2.0 Conv2D pads "same" only: a 5x5 kernel needs [2, 2, 2, 2]; "valid" is rejected.
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr Pads pads = Pads::valid;
#else
inline constexpr Pads pads = Pads::same;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {16, 16, 8}, .filters = 8, .kernel = {5, 5}, .pads = pads,
                                              .activation = relu, .bits = {8, 8, 8}},
                      targets::akida_v2> {};
static_assert(conv1::valid);
