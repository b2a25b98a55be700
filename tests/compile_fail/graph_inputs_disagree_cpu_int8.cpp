// Two layers read the graph input (-1): both must expect what the first one defines. conv_b
// expecting 8x8x4 where conv_a reads 8x8x8 is rejected, naming conv_b and both shapes.
#include "statiq/engine/graph.hpp"
#include "statiq/layers/add.hpp"
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/cpu_int8.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int conv_b_channels = 4;
#else
inline constexpr int conv_b_channels = 8;
#endif

struct conv_a : Conv2D<"conv_a", ConvAttributes{.input = {8, 8, 8}, .filters = 8, .kernel = {3, 3}, .pads = Pads::same},
                       targets::cpu_int8> {};
struct conv_b : Conv2D<"conv_b", ConvAttributes{.input = {8, 8, conv_b_channels}, .filters = 8, .kernel = {3, 3},
                                                .pads = Pads::same},
                       targets::cpu_int8> {};
struct sum : Add<"sum", AddAttributes{.shape = {8, 8, 8}}, targets::cpu_int8> {};
using model = Graph<node<conv_a, -1>, node<conv_b, -1>, node<sum, 0, 1>>;
static_assert(sizeof(model) > 0);
