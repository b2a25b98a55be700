// An Add takes two inputs; a node listing only one (the residual branch forgotten) is rejected.
#include "statiq/engine/graph.hpp"
#include "statiq/layers/add.hpp"
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {8, 8, 16}, .filters = 16, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu, .bits = {8, 8, 8}},
                      targets::akida_v2> {};
struct conv2 : Conv2D<"conv2", ConvAttributes{.input = {8, 8, 16}, .filters = 16, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu, .bits = {8, 8, 8}},
                      targets::akida_v2> {};
struct add1 : Add<"add1", AddAttributes{.shape = {8, 8, 16}, .bits = {8, 8, 8}}, targets::akida_v2> {};

#ifdef STATIQ_KO
using add_node = node<add1, 1>;
#else
using add_node = node<add1, 0, 1>;
#endif

using model = Graph<node<conv1>, node<conv2>, add_node>;
static_assert(model::valid);
