// Akida 1.0 Convolutional must produce at least 3 rows: a "same" 3x3 on 3 rows fits, on 2 rows not.
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/akida_v1.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int rows = 2;
#else
inline constexpr int rows = 3;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {rows, 16, 8}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu, .bits = {4, 4, 4}},
                      targets::akida_v1> {};
static_assert(conv1::valid);
