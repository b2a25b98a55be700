// Gemmini pools only inside a convolution: a stand-alone MaxPool is host work (OK: host<gemmini>).
#include "statiq/layers/max_pool.hpp"
#include "statiq/targets/gemmini.hpp"
#include "statiq/targets/host.hpp"

using namespace statiq;

#ifdef STATIQ_KO
using target = targets::gemmini;
#else
using target = targets::host<targets::gemmini>;
#endif

struct pool1 : MaxPool<"pool1", PoolAttributes{.input = {8, 8, 8}, .pool = max_pool(2, 2), .signed_input = true,
                                               .signed_output = true},
                       target> {};
static_assert(pool1::valid);
