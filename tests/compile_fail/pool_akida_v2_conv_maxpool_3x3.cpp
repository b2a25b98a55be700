// Akida 2.0 Conv2D fuses a 2x2 MaxPool only (3x3 stride 2 is an InputConv2D pooling).
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr Pool pool = max_pool(3, 2);
#else
inline constexpr Pool pool = max_pool(2, 2);
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {16, 16, 8}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu, .pool = pool,
                                              .bits = {4, 4, 4}},
                      targets::akida_v2> {};
static_assert(conv1::valid);
