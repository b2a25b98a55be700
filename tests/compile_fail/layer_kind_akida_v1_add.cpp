// Akida 1.0 has no Add layer (no residual connections on 1.0 hardware): OK runs it on host<akida_v1>.
#include "statiq/layers/add.hpp"
#include "statiq/targets/akida_v1.hpp"
#include "statiq/targets/host.hpp"

using namespace statiq;

#ifdef STATIQ_KO
using target = targets::akida_v1;
#else
using target = targets::host<targets::akida_v1>;
#endif

struct add1 : Add<"add1", AddAttributes{.shape = {8, 8, 16}, .bits = {4, 4, 4}}, target> {};
static_assert(add1::valid);
