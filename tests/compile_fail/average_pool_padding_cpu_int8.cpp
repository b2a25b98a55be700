// A padded AveragePool must count the padding (count_include_pad), or border pixels would need their
// own divisor: 3x3 stride 1 "same" without it is rejected.
#include "statiq/layers/average_pool.hpp"
#include "statiq/targets/cpu_int8.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr bool count_include_pad = false;
#else
inline constexpr bool count_include_pad = true;
#endif

struct pool1 : AveragePool<"pool1", PoolAttributes{.input = {8, 8, 8}, .pool = average_pool({3, 3}, {1, 1}, Pads::same),
                                                   .count_include_pad = count_include_pad},
                           targets::cpu_int8> {};
static_assert(pool1::valid);
