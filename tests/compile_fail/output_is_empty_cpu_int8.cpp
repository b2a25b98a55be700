// A rule of every target: a 5x5 "valid" convolution needs at least 5x5 input; on 4x4 the output
// would be empty.
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/cpu_int8.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int size = 4;
#else
inline constexpr int size = 5;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {size, size, 8}, .filters = 8, .kernel = {5, 5},
                                              .pads = Pads::valid, .bits = {8, 8, 8}},
                      targets::cpu_int8> {};
static_assert(conv1::valid);
