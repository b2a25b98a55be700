// A layer breaking three Akida 2.0 rules (5x5 at stride 2, "valid" pads, 2-bit weights) reports
// only the first (stride 2 only with 3x3 kernels): exactly one error for the user to read.
// Instantiated through sizeof, not static_assert(valid), which would add an error of its own.
#include <cstddef>

#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr ConvAttributes attributes{.input = {16, 16, 8}, .filters = 8, .kernel = {5, 5}, .strides = {2, 2},
                                           .pads = Pads::valid, .activation = relu, .bits = {4, 2, 4}};
#else
inline constexpr ConvAttributes attributes{.input = {16, 16, 8}, .filters = 8, .kernel = {5, 5}, .strides = {1, 1},
                                           .pads = Pads::same, .activation = relu, .bits = {4, 4, 4}};
#endif

struct conv1 : Conv2D<"conv1", attributes, targets::akida_v2> {};
inline constexpr std::size_t conv1_size = sizeof(conv1);
