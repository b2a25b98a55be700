// Graph nodes run in order, so a node may read only earlier nodes: node 1 (conv2) reading
// node 2 (conv3) is rejected.
#include "statiq/engine/graph.hpp"
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/cpu_int8.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int conv2_reads = 2;
#else
inline constexpr int conv2_reads = 0;
#endif

template <fixed_string Name>
struct conv : Conv2D<Name, ConvAttributes{.input = {8, 8, 8}, .filters = 8, .kernel = {3, 3},
                                          .pads = Pads::same, .bits = {8, 8, 8}},
                     targets::cpu_int8> {};
using model = Graph<node<conv<"conv1">, -1>, node<conv<"conv2">, conv2_reads>, node<conv<"conv3">, 1>>;
static_assert(model::valid);
