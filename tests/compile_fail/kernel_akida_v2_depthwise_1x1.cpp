// Akida 2.0 DepthwiseConv2D has 3x3, 5x5 and 7x7 kernels; 1x1 exists only for Conv2D (pointwise).
#include "statiq/layers/depthwise_conv2d.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr Kernel kernel{1, 1};
#else
inline constexpr Kernel kernel{3, 3};
#endif

struct dw1 : DepthwiseConv2D<"dw1", ConvAttributes{.input = {16, 16, 8}, .kernel = kernel, .pads = Pads::same,
                                                   .activation = relu, .bits = {4, 4, 4}},
                             targets::akida_v2> {};
static_assert(dw1::valid);
