// Whether this CPU executes the kernels this test binary was built for (tests/kernels/CMakeLists.txt
// builds each test once per x86 variant): a variant the CPU lacks is skipped with a message.
#pragma once

#include <cstdio>

#include "statiq/kernels/isa.hpp"

namespace statiq::test {

inline bool cpu_runs_this_variant(const char* test) {
#if defined(STATIQ_KERNELS_AVX512_VNNI)
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
  if (!ok) std::printf("%s: this CPU lacks AVX-512 VNNI; the avx512_vnni kernels are not run\n", test);
  return ok;
#elif defined(STATIQ_KERNELS_AVX2)
  static const bool ok = __builtin_cpu_supports("avx2");
  if (!ok) std::printf("%s: this CPU lacks AVX2; the avx2 kernels are not run\n", test);
  return ok;
#else
  (void)test;
  return true;
#endif
}

}  // namespace statiq::test
