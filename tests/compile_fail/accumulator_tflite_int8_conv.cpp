// tflite_int8, int8 x int8 (|x|, |w| <= 128): 16'384 per tap. An 8x8 kernel over 2047 channels is
// 131'008 taps = 2'146'435'072 (OK); over 2048 channels 131'072 taps = 2^31 exactly, one too many (KO).
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/tflite_int8.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int channels = 2048;
#else
inline constexpr int channels = 2047;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {8, 8, channels}, .filters = 16, .kernel = {8, 8},
                                              .pads = Pads::valid, .bits = {8, 8, 8}, .signed_input = true,
                                              .signed_output = true},
                      targets::tflite_int8> {};
static_assert(conv1::valid);
