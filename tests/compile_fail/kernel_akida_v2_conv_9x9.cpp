// Akida 2.0 Conv2D kernels stop at 7x7; 9x9 is rejected.
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr Kernel kernel{9, 9};
#else
inline constexpr Kernel kernel{7, 7};
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {16, 16, 8}, .filters = 8, .kernel = kernel,
                                              .pads = Pads::same, .activation = relu, .bits = {8, 8, 8}},
                      targets::akida_v2> {};
static_assert(conv1::valid);
