// statiq/kernels/trace.hpp — STATIQ_KERNEL_RAN(name): where a layer's compute() enters the kernel it
// chose, the name of that kernel, as the layer's kernel_name spells it. Nothing unless a test defines
// STATIQ_TRACE_KERNELS, which records the last name so that it can check that kernel_name (decided
// at compile time) names the code that actually ran (tests/kernels/kernel_names_test.cpp).
#pragma once

#if defined(STATIQ_TRACE_KERNELS)
namespace statiq::kernels {
inline const char* last_kernel_ran = nullptr;
}  // namespace statiq::kernels
#define STATIQ_KERNEL_RAN(name) (::statiq::kernels::last_kernel_ran = (name))
#else
#define STATIQ_KERNEL_RAN(name) ((void)0)
#endif
