// conv1 writes int8, conv2 reads uint8: 8 bits both, but the signedness differs.
#include "statiq/engine/graph.hpp"
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/cpu_int8.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr bool conv1_signed_output = true;
#else
inline constexpr bool conv1_signed_output = false;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {16, 16, 8}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .bits = {8, 8, 8},
                                              .signed_output = conv1_signed_output},
                      targets::cpu_int8> {};
struct conv2 : Conv2D<"conv2", ConvAttributes{.input = {16, 16, 8}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .bits = {8, 8, 8}},
                      targets::cpu_int8> {};
using model = Sequential<conv1, conv2>;
static_assert(model::valid);
