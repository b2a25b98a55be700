// The common 1/2/4/8-bit rule on an Add for cpu_int8: 3-bit inputs are rejected.
#include "statiq/layers/add.hpp"
#include "statiq/targets/cpu_int8.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int input_bits = 3;
#else
inline constexpr int input_bits = 8;
#endif

struct add1 : Add<"add1", AddAttributes{.shape = {8, 8, 16}, .bits = {input_bits, 8, 8}}, targets::cpu_int8> {};
static_assert(add1::valid);
