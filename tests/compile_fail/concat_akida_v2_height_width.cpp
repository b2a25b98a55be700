// Concat joins channels: a 4x4 input next to an 8x8 one is rejected.
#include "statiq/layers/concat.hpp"
#include "statiq/targets/akida_v2.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr Shape second{4, 4, 16};
#else
inline constexpr Shape second{8, 8, 16};
#endif

struct concat1 : Concat<"concat1", ConcatAttributes{.inputs = {{8, 8, 16}, second}, .count = 2}, targets::akida_v2> {};
static_assert(concat1::valid);
