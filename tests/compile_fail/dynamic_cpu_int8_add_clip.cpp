// The Add of a dynamic engine fuses a ReLU (OK) but not a clipped ReLU (KO).
#include "statiq/layers/dynamic.hpp"
#include "statiq/targets/cpu_int8.hpp"

using namespace statiq;

#ifdef STATIQ_KO
constexpr Activation activation = clipped_relu;
#else
constexpr Activation activation = relu;
#endif

struct add1 : DynamicAdd<"add1", AddAttributes{.shape = {4, 4, 8}, .activation = activation}, targets::cpu_int8> {};
static_assert(add1::valid && add1::output_shape == Shape{4, 4, 8});
