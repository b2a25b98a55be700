// An inner Akida 2.0 convolution pads "same", and so does its fused MaxPool: a 2x2 stride-1 pool on
// a 7x7 map pads [0, 0, 1, 1]; "valid" pooling (no pads, a 6x6 output) is refused there.
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr Pads pool_pads{0, 0, 0, 0};
#else
inline constexpr Pads pool_pads = Pads::same;
#endif

struct conv2 : Conv2D<"conv2", ConvAttributes{.input = {7, 7, 16}, .filters = 16, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu,
                                              .pool = max_pool(Kernel{2, 2}, Stride{1, 1}, pool_pads),
                                              .bits = {8, 8, 8}},
                      targets::akida_v2> {};
static_assert(conv2::valid);
