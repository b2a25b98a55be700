// A graph whose first layer has 3-bit weights, whose second (valid) layer does not chain (shape and
// signedness), and whose arena exceeds a 64-byte memory reports only the broken layer: one error.
#include <cstddef>

#include "statiq/engine/graph.hpp"
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/cpu_int8.hpp"
#include "statiq/targets/host.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int conv1_weight_bits = 3;
inline constexpr ConvAttributes conv2_attributes{.input = {4, 4, 16}, .filters = 8, .kernel = {3, 3},
                                                 .pads = Pads::same, .bits = {8, 8, 8}, .signed_input = true};
using target = targets::with_memory<targets::cpu_int8, 64>;
#else
inline constexpr int conv1_weight_bits = 8;
inline constexpr ConvAttributes conv2_attributes{.input = {8, 8, 8}, .filters = 8, .kernel = {3, 3},
                                                 .pads = Pads::same, .bits = {8, 8, 8}};
using target = targets::cpu_int8;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {8, 8, 4}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .bits = {8, conv1_weight_bits, 8}},
                      target> {};
struct conv2 : Conv2D<"conv2", conv2_attributes, target> {};
using model = Sequential<conv1, conv2>;
inline constexpr std::size_t model_size = sizeof(model);
