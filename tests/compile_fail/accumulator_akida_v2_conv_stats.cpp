// Conv2D 7x7 on 2048 channels, uint8 x int8 on Akida 2.0 (32-bit accumulators). From the
// bit-widths alone: 7*7*2048 taps * 255 * 128 = 3'275'489'280 > 2^31 - 1 (KO). With the weight
// statistics the generator emits the bound is sum|w| * 255 + |bias| = 8'421'504 * 255 + 127 =
// 2'147'483'647, exactly 2^31 - 1, so the layer fits (OK).
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr WeightStats stats{};  // unknown: the bound comes from the bit-widths
#else
inline constexpr WeightStats stats{.max_sum_abs_weights = 8'421'504, .max_abs_bias = 127};
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {8, 8, 2048}, .filters = 64, .kernel = {7, 7},
                                              .pads = Pads::same, .activation = relu, .bits = {8, 8, 8},
                                              .weight_stats = stats},
                      targets::akida_v2> {};
static_assert(conv1::valid);
