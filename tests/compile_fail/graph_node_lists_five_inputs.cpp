// A node may list as many inputs as its layer takes, no more: a Concat of four maps listed with a
// fifth input (KO) is rejected naming both counts, not silently cut to the first four.
#include "statiq/engine/graph.hpp"
#include "statiq/layers/concat.hpp"
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/cpu_int8.hpp"

using namespace statiq;

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {8, 8, 4}, .filters = 4, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu, .bits = {8, 8, 8}},
                      targets::cpu_int8> {};
struct cat1 : Concat<"cat1", ConcatAttributes{.inputs = {{8, 8, 4}, {8, 8, 4}, {8, 8, 4}, {8, 8, 4}}, .count = 4,
                                              .bits = {8, 8, 8}},
                     targets::cpu_int8> {};

#ifdef STATIQ_KO
using cat_node = node<cat1, 0, 0, 0, 0, 0>;
#else
using cat_node = node<cat1, 0, 0, 0, 0>;
#endif

using model = Graph<node<conv1>, cat_node>;
static_assert(model::valid);
