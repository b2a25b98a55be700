// The fused MaxPool halves conv1's 16x16 map; a conv2 declared for 16x16 (the pooling forgotten)
// does not chain with the 8x8 map it actually reads.
#include "statiq/engine/graph.hpp"
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr Shape conv2_input{16, 16, 8};
#else
inline constexpr Shape conv2_input{8, 8, 8};
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {16, 16, 8}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu, .pool = max_pool(2, 2),
                                              .bits = {4, 4, 4}},
                      targets::akida_v2> {};
struct conv2 : Conv2D<"conv2", ConvAttributes{.input = conv2_input, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu, .bits = {4, 4, 4}},
                      targets::akida_v2> {};
using model = Sequential<conv1, conv2>;
static_assert(model::valid);
