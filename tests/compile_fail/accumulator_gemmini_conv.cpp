// Gemmini, int8 x int8 into 32 bits: 3x3 taps * 16'384 = 147'456 per input channel. 14'563 channels
// give 2'147'401'728 (OK); 14'564 give 2'147'549'184 > 2^31 - 1 (KO).
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/gemmini.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int channels = 14'564;
#else
inline constexpr int channels = 14'563;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {4, 4, channels}, .filters = 16, .kernel = {3, 3},
                                              .pads = Pads::same, .bits = {8, 8, 8}, .signed_input = true,
                                              .signed_output = true},
                      targets::gemmini> {};
static_assert(conv1::valid);
