// statiq/kernels/isa.hpp — which kernels this translation unit runs, chosen at compile time from
// the instruction set the compiler targets; -DSTATIQ_REFERENCE_KERNELS forces the reference ones.
#pragma once

namespace statiq::kernels {

enum class Isa { reference, avx512_vnni, avx2, arm_dsp, arm_mve, neon };

#if !defined(STATIQ_REFERENCE_KERNELS) && defined(__AVX512F__) && defined(__AVX512BW__) && \
    defined(__AVX512VL__) && defined(__AVX512VNNI__)
#define STATIQ_KERNELS_AVX512_VNNI 1
inline constexpr Isa isa = Isa::avx512_vnni;
#elif !defined(STATIQ_REFERENCE_KERNELS) && defined(__AVX2__)
// Haswell and later without AVX-512 VNNI (kernels/x86/avx2): exact int16 products (vpmaddwd), no FMA
// needed (and none used: qlinear's multiply must stay a lone float32 multiply).
#define STATIQ_KERNELS_AVX2 1
inline constexpr Isa isa = Isa::avx2;
#elif !defined(STATIQ_REFERENCE_KERNELS) && defined(__ARM_FEATURE_DSP) && defined(__ARM_FEATURE_SIMD32)
// Cortex-M4/M7/M55 (Armv7E-M, Armv8-M Mainline with the DSP extension): SMLAD, SXTB16 (kernels/arm);
// with integer MVE (Cortex-M55, Armv8.1-M) the MVE kernels (kernels/arm/mve), the DSP ones still built.
#define STATIQ_KERNELS_ARM_DSP 1
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#define STATIQ_KERNELS_ARM_MVE 1
inline constexpr Isa isa = Isa::arm_mve;
#else
inline constexpr Isa isa = Isa::arm_dsp;
#endif
#elif !defined(STATIQ_REFERENCE_KERNELS) && defined(__aarch64__) && defined(__ARM_NEON)
// 64-bit Arm (Cortex-A, Neoverse, Apple): the NEON kernels (kernels/arm/neon), with SDOT where the
// compiler targets the dot-product extension (-march=armv8.2-a+dotprod and later), else SMULL/SADALP.
#define STATIQ_KERNELS_ARM_NEON 1
#if defined(__ARM_FEATURE_DOTPROD)
#define STATIQ_KERNELS_ARM_NEON_DOTPROD 1
#endif
inline constexpr Isa isa = Isa::neon;
#else
inline constexpr Isa isa = Isa::reference;
#endif

constexpr const char* isa_name(Isa i) {
  if (i == Isa::arm_dsp) return "arm_dsp";
  if (i == Isa::arm_mve) return "arm_mve";
  if (i == Isa::avx2) return "avx2";
#if defined(STATIQ_KERNELS_ARM_NEON_DOTPROD)
  if (i == Isa::neon) return "neon dotprod";
#else
  if (i == Isa::neon) return "neon";
#endif
  return i == Isa::avx512_vnni ? "avx512_vnni" : "reference";
}

}  // namespace statiq::kernels
