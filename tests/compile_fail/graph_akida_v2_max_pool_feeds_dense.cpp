// On Akida 2.0 a convolution with a fused MaxPool must feed a Conv/Depthwise layer: feeding a
// Dense (KO) is rejected, feeding a Conv2D (OK) is fine. Both consumers read the pooled 4x4x8 map.
#include "statiq/engine/graph.hpp"
#include "statiq/layers/conv2d.hpp"
#include "statiq/layers/dense.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {8, 8, 8}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu, .pool = max_pool(2, 2),
                                              .bits = {4, 4, 4}},
                      targets::akida_v2> {};
struct fc1 : Dense<"fc1", DenseAttributes{.input = {4, 4, 8}, .units = 10, .bits = {4, 4, 4}}, targets::akida_v2> {};
struct conv2 : Conv2D<"conv2", ConvAttributes{.input = {4, 4, 8}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu, .bits = {4, 4, 4}},
                      targets::akida_v2> {};

#ifdef STATIQ_KO
using consumer = fc1;
#else
using consumer = conv2;
#endif

using model = Sequential<conv1, consumer>;
static_assert(model::valid);
