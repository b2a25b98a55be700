// Akida 2.0 fuses a GlobalAveragePool over fewer than 144 pixels: 11x11 = 121 fits, 12x12 = 144 does not.
#include "statiq/layers/conv2d.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int size = 12;
#else
inline constexpr int size = 11;
#endif

struct conv1 : Conv2D<"conv1", ConvAttributes{.input = {size, size, 8}, .filters = 8, .kernel = {3, 3},
                                              .pads = Pads::same, .activation = relu,
                                              .pool = global_average_pool, .bits = {4, 4, 4}},
                      targets::akida_v2> {};
static_assert(conv1::valid);
