// Akida 1.0 fuses a depthwise convolution with the pointwise one after it (SeparableConvolutional):
// a stand-alone DepthwiseConv2D is rejected there (KO) but is an Akida 2.0 layer (OK).
#include "statiq/layers/depthwise_conv2d.hpp"
#include "statiq/targets/akida_v1.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
using target = targets::akida_v1;
#else
using target = targets::akida_v2;
#endif

struct dw1 : DepthwiseConv2D<"dw1", ConvAttributes{.input = {16, 16, 8}, .kernel = {3, 3}, .pads = Pads::same,
                                                   .activation = relu, .bits = {4, 4, 4}},
                             target> {};
static_assert(dw1::valid);
