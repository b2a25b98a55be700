// Gemmini's zero points are 0 and its outputs int8: an unsigned (uint8) output is rejected.
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/gemmini.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr bool signed_output = false;
#else
inline constexpr bool signed_output = true;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {16, 16, 8}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu, .bits = {8, 8, 8},
                                              .signed_input = true, .signed_output = signed_output},
                      targets::gemmini> {};
static_assert(conv1::valid);
