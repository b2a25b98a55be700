// Akida 2.0 Conv2D strides by 2 only with 3x3 kernels: a 5x5 kernel at stride 1 is fine, at
// stride 2 it is rejected.
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr Stride stride{2, 2};
#else
inline constexpr Stride stride{1, 1};
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {16, 16, 8}, .filters = 8, .kernel = {5, 5},
                                              .strides = stride, .pads = Pads::same, .activation = relu,
                                              .bits = {4, 4, 4}},
                      targets::akida_v2> {};
static_assert(conv1::valid);
