// A LookupTable has one entry per input byte: 4-bit input codes are rejected (the table would be
// indexed by values it was not built for).
#include "statiq/layers/lookup_table.hpp"
#include "statiq/targets/cpu_int8.hpp"

using namespace statiq;

#ifdef STATIQ_KO
inline constexpr int input_bits = 4;
#else
inline constexpr int input_bits = 8;
#endif

struct leaky : LookupTable<"leaky",
                           LookupTableAttributes{.shape = {4, 4, 8}, .function = LookupFunction::leaky_relu,
                                                 .alpha = 0.1f, .bits = {input_bits, 8, 8}},
                           targets::cpu_int8> {};
static_assert(leaky::valid);
