// conv1 writes 4-bit activations but conv2 reads 8-bit ones: same shape, different element
// type (bits, signedness, float), so the graph rejects the edge.
#include "statiq/engine/graph.hpp"
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int conv1_output_bits = 4;
#else
inline constexpr int conv1_output_bits = 8;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {16, 16, 8}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu,
                                              .bits = {8, 8, conv1_output_bits}},
                      targets::akida_v2> {};
struct conv2 : Conv2D<"conv2", ConvAttributes{.input = {16, 16, 8}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu, .bits = {8, 4, 4}},
                      targets::akida_v2> {};
using model = Sequential<conv1, conv2>;
static_assert(model::valid);
