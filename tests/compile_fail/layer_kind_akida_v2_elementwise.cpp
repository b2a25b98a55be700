// Akida 2.0 has no elementwise Mul/Max/Min/Sub of two tensors: it must run on the host (OK places it on host<akida_v2>).
#include "statiq/layers/elementwise.hpp"
#include "statiq/targets/akida_v2.hpp"
#include "statiq/targets/host.hpp"

using namespace statiq;

#ifdef STATIQ_KO
using target = targets::akida_v2;
#else
using target = targets::host<targets::akida_v2>;
#endif

struct product : Elementwise<"product", ElementwiseAttributes{.shape = {8, 8, 4}}, target> {};
static_assert(product::valid);
