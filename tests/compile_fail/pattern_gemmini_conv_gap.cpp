// Gemmini pools only by max (its pooling unit follows the systolic array): a fused
// Conv -> GlobalAveragePool is not in its table.
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/gemmini.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr Pool pool = global_average_pool;
#else
inline constexpr Pool pool = max_pool(2, 2);
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {8, 8, 16}, .filters = 16, .kernel = {3, 3},
                                              .pads = Pads::same, .pool = pool, .bits = {8, 8, 8},
                                              .signed_input = true, .signed_output = true},
                      targets::gemmini> {};
static_assert(conv1::valid);
