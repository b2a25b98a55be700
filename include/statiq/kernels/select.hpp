// statiq/kernels/select.hpp — which kernel runs a convolution or dense layer, the weight layout it
// reads and the scratch it needs: decided from the layer's geometry (compile-time constants in the
// layer types, run-time values in statiq-codegen's simulation) and the ISA of this translation unit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "statiq/core/weight_layout.hpp"
#include "statiq/kernels/isa.hpp"
#include "statiq/kernels/reference/conv2d.hpp"
#include "statiq/kernels/reference/pooling.hpp"
#include "statiq/kernels/trace.hpp"

#if defined(STATIQ_KERNELS_AVX512_VNNI)
#include "statiq/kernels/x86/conv2d.hpp"
#include "statiq/kernels/x86/depthwise_conv2d.hpp"
#include "statiq/kernels/x86/grouped_conv2d.hpp"
#include "statiq/kernels/x86/pooling.hpp"
#include "statiq/kernels/x86/requantize.hpp"
#endif
#if defined(STATIQ_KERNELS_AVX2)
#include "statiq/kernels/x86/avx2/conv2d.hpp"
#include "statiq/kernels/x86/avx2/depthwise_conv2d.hpp"
#include "statiq/kernels/x86/avx2/grouped_conv2d.hpp"
#include "statiq/kernels/x86/avx2/pooling.hpp"
#include "statiq/kernels/x86/avx2/requantize.hpp"
#endif
#if defined(STATIQ_KERNELS_ARM_DSP)
#include "statiq/kernels/arm/conv2d.hpp"
#include "statiq/kernels/arm/depthwise_conv2d.hpp"
#include "statiq/kernels/arm/requantize.hpp"
#include "statiq/kernels/arm/mve/conv2d.hpp"
#include "statiq/kernels/arm/mve/depthwise_conv2d.hpp"
#endif
#if defined(STATIQ_KERNELS_ARM_NEON)
#include "statiq/kernels/arm/neon/conv2d.hpp"
#include "statiq/kernels/arm/neon/depthwise_conv2d.hpp"
#include "statiq/kernels/arm/neon/grouped_conv2d.hpp"
#include "statiq/kernels/arm/neon/pooling.hpp"
#include "statiq/kernels/arm/neon/requantize.hpp"
#endif

namespace statiq::kernels {

// The weight layout of a convolution (Dense: a 1x1 convolution of a 1x1xN input). It depends on
// the geometry only, never on the ISA, so the generated data fits every build of the engine (the
// reference kernel reads any layout through its logical indices). Weights packed several to a
// byte are packed in the same order, low bits first (the kernels widen them as they read them).
constexpr WeightLayout conv_weight_layout(const reference::Conv2DGeometry& g, bool byte_weights) {
  // (byte_weights no longer changes the order: a vector of 16 rows is 16 * bits / 8 whole bytes in
  // every order below. Kept so the callers say what they store.)
  (void)byte_weights;
  const int taps = g.kernel.h * g.kernel.w;
  // oc16_k4 segments: a kernel row (kernel.w * channels, contiguous in NHWC), or one tap when dilated.
  if (g.group == 1)
    return {WeightOrder::oc16_k4, g.out.c, taps * g.in.c, g.dilations.w == 1 ? g.kernel.w * g.in.c : g.in.c};
  // Depthwise, any channel multiplier (out.c = multiplier * in.c).
  if (g.group == g.in.c) return {WeightOrder::tap_major, g.out.c, taps};
  // Grouped: per group an oc16_k4 block set whose segments are single taps of the group's channels.
  const int per_group = g.in_channels_per_group();
  return {WeightOrder::oc16_k4, g.out.c, taps * per_group, per_group, g.group};
}

enum class ConvKernel { reference, conv2d_avx512_vnni, depthwise_conv2d_avx512, conv2d_arm_dsp, depthwise_conv2d_arm_dsp,
                        conv2d_arm_mve, depthwise_conv2d_arm_mve, conv2d_avx2, depthwise_conv2d_avx2, conv2d_neon,
                        depthwise_conv2d_neon, grouped_conv2d_avx512_vnni, grouped_conv2d_avx2,
                        grouped_conv2d_neon };

// weight_bits: the weights' width. Weights of 1, 2 or 4 bits may be packed several to a byte (on a
// target that packs them): the x86 and NEON convolutions (group 1, grouped, depthwise) widen those, the
// Cortex-M ones read bytes only (so no Cortex-M kernel is picked for sub-byte weights).
constexpr ConvKernel conv_kernel(const reference::Conv2DGeometry& g, const WeightLayout& w, int weight_bits = 8) {
  if constexpr (isa == Isa::avx512_vnni) {
    if (w.order == WeightOrder::oc16_k4 && g.group == 1) return ConvKernel::conv2d_avx512_vnni;
    if (w.order == WeightOrder::oc16_k4 && g.group > 1 && w.groups == g.group) return ConvKernel::grouped_conv2d_avx512_vnni;
    if (w.order == WeightOrder::tap_major && g.kernel.h * g.kernel.w <= 64) return ConvKernel::depthwise_conv2d_avx512;
  }
  if constexpr (isa == Isa::avx2) {
    if (w.order == WeightOrder::oc16_k4 && g.group == 1) return ConvKernel::conv2d_avx2;
    if (w.order == WeightOrder::oc16_k4 && g.group > 1 && w.groups == g.group) return ConvKernel::grouped_conv2d_avx2;
    if (w.order == WeightOrder::tap_major && g.kernel.h * g.kernel.w <= 64) return ConvKernel::depthwise_conv2d_avx2;
  }
  // The Cortex-M kernels: byte weights only, depthwise with channel multiplier 1 only.
  if constexpr (isa == Isa::arm_dsp) {
    if (w.order == WeightOrder::oc16_k4 && g.group == 1 && weight_bits > 4) return ConvKernel::conv2d_arm_dsp;
    if (w.order == WeightOrder::tap_major && g.out.c == g.in.c && weight_bits > 4)
      return ConvKernel::depthwise_conv2d_arm_dsp;
  }
  if constexpr (isa == Isa::arm_mve) {
    if (w.order == WeightOrder::oc16_k4 && g.group == 1 && weight_bits > 4) return ConvKernel::conv2d_arm_mve;
    if (w.order == WeightOrder::tap_major && g.out.c == g.in.c && weight_bits > 4)
      return ConvKernel::depthwise_conv2d_arm_mve;
  }
  if constexpr (isa == Isa::neon) {
    if (w.order == WeightOrder::oc16_k4 && g.group == 1) return ConvKernel::conv2d_neon;
    if (w.order == WeightOrder::oc16_k4 && g.group > 1 && w.groups == g.group) return ConvKernel::grouped_conv2d_neon;
    if (w.order == WeightOrder::tap_major) return ConvKernel::depthwise_conv2d_neon;  // any channel multiplier
  }
  return ConvKernel::reference;
}

constexpr const char* conv_kernel_name(ConvKernel k) {
  switch (k) {
    case ConvKernel::conv2d_avx512_vnni: return "x86::conv2d (avx512_vnni)";
    case ConvKernel::depthwise_conv2d_avx512: return "x86::depthwise_conv2d (avx512)";
    case ConvKernel::grouped_conv2d_avx512_vnni: return "x86::grouped_conv2d (avx512_vnni)";
    case ConvKernel::conv2d_avx2: return "x86::avx2::conv2d (avx2)";
    case ConvKernel::depthwise_conv2d_avx2: return "x86::avx2::depthwise_conv2d (avx2)";
    case ConvKernel::grouped_conv2d_avx2: return "x86::avx2::grouped_conv2d (avx2)";
    case ConvKernel::conv2d_arm_dsp: return "arm::conv2d (dsp)";
    case ConvKernel::depthwise_conv2d_arm_dsp: return "arm::depthwise_conv2d (dsp)";
    case ConvKernel::conv2d_arm_mve: return "arm::mve::conv2d (mve)";
    case ConvKernel::depthwise_conv2d_arm_mve: return "arm::mve::depthwise_conv2d (mve)";
#if defined(STATIQ_KERNELS_ARM_NEON_DOTPROD)
    case ConvKernel::conv2d_neon: return "arm::neon::conv2d (neon dotprod)";
    case ConvKernel::grouped_conv2d_neon: return "arm::neon::grouped_conv2d (neon dotprod)";
#else
    case ConvKernel::conv2d_neon: return "arm::neon::conv2d (neon)";
    case ConvKernel::grouped_conv2d_neon: return "arm::neon::grouped_conv2d (neon)";
#endif
    case ConvKernel::depthwise_conv2d_neon: return "arm::neon::depthwise_conv2d (neon)";
    default: return "reference::conv2d";
  }
}

// Kernels that start each channel at bias - (x_zero_point + flip) * sum(w) and so read the layer's
// per-channel weight sums (core/weight_sums.hpp). The others subtract the zero point from the
// activations as they widen them (AVX2, Cortex-M, the depthwise kernels) and need no sums.
constexpr bool conv_kernel_reads_weight_sums(ConvKernel k) {
  return k == ConvKernel::conv2d_avx512_vnni || k == ConvKernel::grouped_conv2d_avx512_vnni ||
         k == ConvKernel::conv2d_neon ||
         k == ConvKernel::grouped_conv2d_neon;
}

// int32 words the kernel needs besides a full accumulator map (which only the reference kernel,
// or a fused pool, needs).
constexpr std::size_t conv_kernel_scratch_words(ConvKernel k, const reference::Conv2DGeometry& g,
                                                const WeightLayout& w, bool signed_input) {
#if defined(STATIQ_KERNELS_AVX512_VNNI)
  if (k == ConvKernel::conv2d_avx512_vnni) return x86::conv2d_scratch_words(g, w, signed_input);
  if (k == ConvKernel::depthwise_conv2d_avx512) return x86::depthwise_conv2d_scratch_words(g, w);
  if (k == ConvKernel::grouped_conv2d_avx512_vnni) return x86::grouped_conv2d_scratch_words(g, w, signed_input);
#elif defined(STATIQ_KERNELS_AVX2)
  if (k == ConvKernel::conv2d_avx2) return x86::avx2::conv2d_scratch_words(g, w, signed_input);
  if (k == ConvKernel::depthwise_conv2d_avx2) return x86::avx2::depthwise_conv2d_scratch_words(g, w);
  if (k == ConvKernel::grouped_conv2d_avx2) return x86::avx2::grouped_conv2d_scratch_words(g, w, signed_input);
#elif defined(STATIQ_KERNELS_ARM_DSP)
  (void)signed_input;
  if (k == ConvKernel::conv2d_arm_dsp) return arm::conv2d_scratch_words(g, w);
  if (k == ConvKernel::depthwise_conv2d_arm_dsp) return arm::depthwise_conv2d_scratch_words(g);
#if defined(STATIQ_KERNELS_ARM_MVE)
  if (k == ConvKernel::conv2d_arm_mve) return arm::mve::conv2d_scratch_words(g, w);
  if (k == ConvKernel::depthwise_conv2d_arm_mve) return arm::mve::depthwise_conv2d_scratch_words(g);
#endif
#elif defined(STATIQ_KERNELS_ARM_NEON)
  if (k == ConvKernel::conv2d_neon) return arm::neon::conv2d_scratch_words(g, w, signed_input);
  if (k == ConvKernel::depthwise_conv2d_neon) return arm::neon::depthwise_conv2d_scratch_words(g);
  if (k == ConvKernel::grouped_conv2d_neon) return arm::neon::grouped_conv2d_scratch_words(g, w, signed_input);
#else
  (void)g;
  (void)w;
  (void)signed_input;
#endif
  (void)k;
  return 0;
}

// Pooling: the fast kernel where one exists for these element types, else the reference; decided
// here at compile time, for the pooling functions below and for the layers' kernel_name.
// max_pool: int8, uint8 or int32 values kept as they are; the sums: byte inputs.
template <class X, class T>
constexpr bool max_pool_is_fast() {
  constexpr bool vector_isa = isa == Isa::avx512_vnni || isa == Isa::avx2 || isa == Isa::neon;
  return vector_isa && std::is_same_v<X, T> &&
         (std::is_same_v<T, std::int32_t> || std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::uint8_t>);
}
template <class X>
constexpr bool pool_sum_is_fast() {
  constexpr bool vector_isa = isa == Isa::avx512_vnni || isa == Isa::avx2 || isa == Isa::neon;
  return vector_isa && std::is_integral_v<X> && sizeof(X) == 1;
}

// The names of the pooling kernels of this build (the `fast` one or the reference).
enum class PoolingOp { max_pool, window_sum, global_sum };
constexpr const char* pooling_kernel_name(PoolingOp op, bool fast) {
  const int i = op == PoolingOp::max_pool ? 0 : op == PoolingOp::window_sum ? 1 : 2;
  constexpr const char* reference_names[3] = {"reference::max_pool", "reference::window_sum", "reference::global_sum"};
#if defined(STATIQ_KERNELS_AVX512_VNNI)
  constexpr const char* names[3] = {"x86::max_pool (avx512)", "x86::window_sum (avx512)", "x86::global_sum (avx512)"};
#elif defined(STATIQ_KERNELS_AVX2)
  constexpr const char* names[3] = {"x86::avx2::max_pool (avx2)", "x86::avx2::window_sum (avx2)",
                                    "x86::avx2::global_sum (avx2)"};
#elif defined(STATIQ_KERNELS_ARM_NEON)
  constexpr const char* names[3] = {"arm::neon::max_pool (neon)", "arm::neon::window_sum (neon)",
                                    "arm::neon::global_sum (neon)"};
#else
  const char* const* names = reference_names;
#endif
  return fast ? names[i] : reference_names[i];
}

template <class X, class T>
void max_pool(Shape in, Shape out, Kernel kernel, Stride strides, Pads pads, const X* x, T* y) {
  STATIQ_KERNEL_RAN(pooling_kernel_name(PoolingOp::max_pool, max_pool_is_fast<X, T>()));
  if constexpr (max_pool_is_fast<X, T>()) {
#if defined(STATIQ_KERNELS_AVX512_VNNI)
    x86::max_pool(in, out, kernel, strides, pads, x, y);
#elif defined(STATIQ_KERNELS_AVX2)
    x86::avx2::max_pool(in, out, kernel, strides, pads, x, y);
#elif defined(STATIQ_KERNELS_ARM_NEON)
    arm::neon::max_pool(in, out, kernel, strides, pads, x, y);
#endif
  } else {
    reference::max_pool(in, out, kernel, strides, pads, x, y);
  }
}

template <class X>
void window_sum(Shape in, Shape out, Kernel kernel, Stride strides, Pads pads, const X* x, std::int32_t zero_point,
                std::int32_t* sum) {
  STATIQ_KERNEL_RAN(pooling_kernel_name(PoolingOp::window_sum, pool_sum_is_fast<X>()));
  if constexpr (pool_sum_is_fast<X>()) {
#if defined(STATIQ_KERNELS_AVX512_VNNI)
    x86::window_sum(in, out, kernel, strides, pads, x, zero_point, sum);
#elif defined(STATIQ_KERNELS_AVX2)
    x86::avx2::window_sum(in, out, kernel, strides, pads, x, zero_point, sum);
#elif defined(STATIQ_KERNELS_ARM_NEON)
    arm::neon::window_sum(in, out, kernel, strides, pads, x, zero_point, sum);
#endif
  } else {
    reference::window_sum(in, out, kernel, strides, pads, x, zero_point, sum);
  }
}

template <class X>
void global_sum(Shape in, const X* x, std::int32_t zero_point, std::int32_t* sum) {
  STATIQ_KERNEL_RAN(pooling_kernel_name(PoolingOp::global_sum, pool_sum_is_fast<X>()));
  if constexpr (pool_sum_is_fast<X>()) {
#if defined(STATIQ_KERNELS_AVX512_VNNI)
    x86::global_sum(in, x, zero_point, sum);
#elif defined(STATIQ_KERNELS_AVX2)
    x86::avx2::global_sum(in, x, zero_point, sum);
#elif defined(STATIQ_KERNELS_ARM_NEON)
    arm::neon::global_sum(in, x, zero_point, sum);
#endif
  } else {
    reference::global_sum(in, x, zero_point, sum);
  }
}

}  // namespace statiq::kernels
