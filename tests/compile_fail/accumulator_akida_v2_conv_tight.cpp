// The statistics bound is tight: 8'421'504 * 255 + 127 = 2^31 - 1 fits (OK), one more unit of
// bias (128) makes 2^31 = 2'147'483'648 and overflows (KO).
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr std::int64_t max_abs_bias = 128;
#else
inline constexpr std::int64_t max_abs_bias = 127;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {8, 8, 2048}, .filters = 64, .kernel = {7, 7},
                                              .pads = Pads::same, .activation = relu, .bits = {8, 8, 8},
                                              .weight_stats = {.max_sum_abs_weights = 8'421'504,
                                                               .max_abs_bias = max_abs_bias}},
                      targets::akida_v2> {};
static_assert(conv1::valid);
