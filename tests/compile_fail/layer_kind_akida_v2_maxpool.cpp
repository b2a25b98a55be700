// Akida 2.0 has no stand-alone MaxPool: it must be fused into a convolution, or run on the host
// (OK places the same layer on host<akida_v2>).
#include "statiq/layers/max_pool.hpp"
#include "statiq/targets/akida_v2.hpp"
#include "statiq/targets/host.hpp"

using namespace statiq;

#ifdef STATIQ_KO
using target = targets::akida_v2;
#else
using target = targets::host<targets::akida_v2>;
#endif

struct pool1 : MaxPool<"pool1", PoolAttributes{.input = {8, 8, 8}, .pool = max_pool(2, 2)}, target> {};
static_assert(pool1::valid);
