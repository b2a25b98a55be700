// Akida 2.0 fuses a ReLU into Add (Add -> Relu) but not a clipped ReLU (Add -> Clip).
#include "statiq/layers/add.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr Activation activation = clipped_relu;
#else
inline constexpr Activation activation = relu;
#endif

struct add1 : Add<"add1", AddAttributes{.shape = {8, 8, 16}, .activation = activation, .bits = {8, 8, 8}},
                  targets::akida_v2> {};
static_assert(add1::valid);
