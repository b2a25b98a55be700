// A Sequential whose second layer expects 16 channels from a first layer that makes 8: the
// chaining rule names the reading layer, the input index and both shapes.
#include "statiq/engine/graph.hpp"
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/cpu_int8.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int conv2_channels = 16;
#else
inline constexpr int conv2_channels = 8;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {16, 16, 8}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .bits = {8, 8, 8}},
                      targets::cpu_int8> {};
struct conv2 : Conv2D<"conv2", ConvAttributes{.input = {16, 16, conv2_channels}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .bits = {8, 8, 8}},
                      targets::cpu_int8> {};
using model = Sequential<conv1, conv2>;
static_assert(model::valid);
