// A fused GlobalAveragePool adds the 32x32 accumulators of each channel: uint4 x int4 on a 1x1
// kernel is 15 * 8 = 120 per tap, times 1024 pixels = 122'880 per input channel. 17'476 channels
// give 2'147'450'880 <= 2^31 - 1 (OK); 17'477 give 2'147'573'760 (KO).
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/akida_v1.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int channels = 17'477;
#else
inline constexpr int channels = 17'476;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {32, 32, channels}, .filters = 16, .kernel = {1, 1},
                                              .pads = Pads::same, .pool = global_average_pool, .bits = {4, 4, 4}},
                      targets::akida_v1> {};
static_assert(conv1::valid);
