// statiq/layers/convolution.hpp — the machinery shared by InputConv2D, Conv2D and
// DepthwiseConv2D: attributes, shape arithmetic, rules common to all targets, and the call operator.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>

#include "statiq/arith/akida_v1.hpp"
#include "statiq/arith/gemmini.hpp"
#include "statiq/arith/pow2.hpp"
#include "statiq/arith/profile.hpp"
#include "statiq/arith/qlinear.hpp"
#include "statiq/arith/tflite.hpp"
#include "statiq/core/activation.hpp"
#include "statiq/core/bits.hpp"
#include "statiq/core/diagnostics.hpp"
#include "statiq/core/fixed_string.hpp"
#include "statiq/core/packed.hpp"
#include "statiq/core/pads.hpp"
#include "statiq/core/pool.hpp"
#include "statiq/core/qint.hpp"
#include "statiq/core/shape.hpp"
#include "statiq/core/weight_sums.hpp"
#include "statiq/kernels/reference/conv2d.hpp"
#include "statiq/kernels/reference/pooling.hpp"
#include "statiq/kernels/select.hpp"
#include "statiq/layers/accumulator.hpp"
#include "statiq/layers/layer_kind.hpp"

namespace statiq {

// Everything the type of a convolution layer says about it (ONNX Conv attributes, in NHWC terms,
// plus the fused activation/pooling, the bit-widths and what the generator knows of the weights).
struct ConvAttributes {
  Shape input{};
  int filters = 0;
  Kernel kernel{1, 1};
  Stride strides{1, 1};
  Pads pads{};
  Activation activation = no_activation;
  Pool pool = no_pool;
  Bits bits{};
  bool signed_input = false;   // uint8 after a ReLU or from an image; int8 otherwise
  bool signed_output = false;  // unsigned when the activation makes it non-negative
  Dilation dilations{1, 1};
  int group = 1;
  WeightStats weight_stats{};

  constexpr bool operator==(const ConvAttributes&) const = default;
};

namespace diag {
STATIQ_DIAGNOSTIC(shape_has_a_non_positive_dimension, "a shape, kernel, stride or dilation is not positive",
                  fixed_string Layer, Shape input, int filters, Kernel kernel, Stride strides);
STATIQ_DIAGNOSTIC(channels_not_divisible_by_group, "input channels and filters must be multiples of group",
                  fixed_string Layer, int input_channels, int filters, int group);
STATIQ_DIAGNOSTIC(output_is_empty, "the kernel does not fit the padded input: the output would be empty",
                  fixed_string Layer, Shape input, Kernel kernel, Stride strides, Pads pads);
STATIQ_DIAGNOSTIC(bit_width_not_1_2_4_or_8, "bit-widths are 1, 2, 4 or 8", fixed_string Layer, Bits bits);
STATIQ_DIAGNOSTIC(accumulator_may_overflow,
                  "the worst-case accumulator exceeds the target's accumulator width: lower the bit-widths, "
                  "split the layer, or let the generator supply weight statistics (sum |w|)",
                  fixed_string Layer, long long worst_case, int accumulator_bits, long long limit);
STATIQ_DIAGNOSTIC(fused_pool_must_be_max_or_global_average,
                  "only MaxPool or GlobalAveragePool can be fused into a convolution; use a separate pooling layer",
                  fixed_string Layer, Pool pool);
STATIQ_DIAGNOSTIC(clipped_relu_before_global_average_needs_accumulator_clip,
                  "a clipped ReLU fused before GlobalAveragePool clips accumulators: the target's profile "
                  "must carry accumulator_clip (pow2)",
                  fixed_string Layer);
STATIQ_DIAGNOSTIC(depthwise_needs_group_equal_to_channels, "a depthwise convolution has group == input channels",
                  fixed_string Layer, int input_channels, int group);
}  // namespace diag

constexpr bool valid_bit_width(int b) { return b == 1 || b == 2 || b == 4 || b == 8; }

// --- a convolution layer's geometry and computation, with run-time attributes ------------------
// The layer types below call these with their constexpr attributes; statiq-codegen's integer
// simulation calls the very same functions with attributes read from the model.

constexpr Pads resolved_pads(const ConvAttributes& a) {
  return resolve_pads(a.pads, a.input, a.kernel, a.strides, a.dilations);
}
// Before the fused pooling.
constexpr Shape conv_output_shape(const ConvAttributes& a) {
  return window_output_shape(a.input, a.filters, a.kernel, a.strides, a.pads, a.dilations);
}
constexpr Shape output_shape(const ConvAttributes& a) { return a.pool.output_shape(conv_output_shape(a)); }
constexpr std::size_t weight_count(const ConvAttributes& a) {
  return std::size_t(a.filters) * std::size_t(a.kernel.h) * std::size_t(a.kernel.w) * std::size_t(a.input.c / a.group);
}
constexpr kernels::reference::Conv2DGeometry conv_geometry(const ConvAttributes& a) {
  return {a.input, conv_output_shape(a), a.kernel, a.strides, resolved_pads(a), a.dilations, a.group};
}
// Where the weights are stored (kernels/select.hpp): byte_weights is false only for weights packed
// several to a byte (sub-byte weights on a target that packs them).
constexpr WeightLayout weight_layout(const ConvAttributes& a, bool byte_weights) {
  return kernels::conv_weight_layout(conv_geometry(a), byte_weights);
}
constexpr kernels::ConvKernel conv_kernel(const ConvAttributes& a, const WeightLayout& w) {
  return kernels::conv_kernel(conv_geometry(a), w, a.bits.w);
}
// With a fast kernel and a fused pool, the accumulator map starts here: after the kernel's own
// scratch, which a fused MaxPool then reuses for one pooled row (pooled rows are requantized as they
// are made, so no pooled map is kept).
constexpr std::size_t fast_map_offset(const ConvAttributes& a, const WeightLayout& w) {
  const std::size_t kernel = kernels::conv_kernel_scratch_words(conv_kernel(a, w), conv_geometry(a), w, a.signed_input);
  const std::size_t row = a.pool.kind == PoolKind::max ? std::size_t(output_shape(a).w) * std::size_t(a.filters) : 0;
  return kernel > row ? kernel : row;
}
// int32 words of scratch. Reference kernel: the accumulator map, and the pooled accumulators after a
// MaxPool. Fast kernel: its own scratch, and the map only when a pool is fused.
constexpr std::size_t scratch_words(const ConvAttributes& a, const WeightLayout& w) {
  const std::size_t map = std::size_t(conv_output_shape(a).size());
  if (conv_kernel(a, w) == kernels::ConvKernel::reference)
    return map + (a.pool.kind == PoolKind::max ? std::size_t(output_shape(a).size()) : 0);
  if (a.pool.kind == PoolKind::none)
    return kernels::conv_kernel_scratch_words(conv_kernel(a, w), conv_geometry(a), w, a.signed_input);
  return fast_map_offset(a, w) + map;
}

// What a conv or dense layer needs besides its weights, in the profile's terms: per output channel
// bias and requantization, the output's zero point and bounds (a fused ReLU is the lower bound).
template <class Profile>
struct LayerData {
  const std::int32_t* bias = nullptr;
  const typename Profile::channel_params* channel = nullptr;
  typename Profile::output_params output{};
  std::int32_t input_zero_point = 0;
  std::int32_t weight_zero_point = 0;
  // Per output channel, the sum of its weights (core/weight_sums.hpp), computed once by the
  // generator. Null (a LayerData built by hand): a kernel that needs them computes them at each
  // call, with the same function, into its scratch.
  const std::int32_t* weight_sums = nullptr;
};

// The data of a conv or dense layer, by reference (the generated data translation unit owns it),
// sizes in the types: weights (OHWI or [units][inputs]), and per output channel bias, requantization
// and the sum of its weights (statiq::weight_sums(), core/weight_sums.hpp: the generator emits them;
// by hand, `constexpr auto sums = statiq::weight_sums<Channels>(weights)`).
template <class Profile, class WeightsView, std::size_t Channels>
struct WeightedParameters {
  WeightsView weights;
  std::span<const std::int32_t, Channels> bias;
  std::span<const typename Profile::channel_params, Channels> channel;
  std::span<const std::int32_t, Channels> weight_sums;
  typename Profile::output_params output;
  std::int32_t input_zero_point = 0;
  std::int32_t weight_zero_point = 0;

  constexpr LayerData<Profile> data() const {
    return {bias.data(), channel.data(), output, input_zero_point, weight_zero_point, weight_sums.data()};
  }
};

template <class P>
inline constexpr bool has_accumulator_clip = requires(typename P::output_params o) { o.accumulator_clip; };

namespace detail {
// Pixels' channels: y[p * channels + c] = requantize(acc[p * ld + c]); `gemm`: the layer is one a
// target runs as a GEMM (a group-1 convolution, a Dense layer), requantized by arith::requantize_gemm.
template <class Profile, class Y>
void requantize_rows(const std::int32_t* acc, std::size_t ld, int pixels, int channels, const LayerData<Profile>& d,
                     Y* y, [[maybe_unused]] bool gemm) {
#if defined(STATIQ_KERNELS_AVX512_VNNI)
  if constexpr (std::is_same_v<Profile, arith::qlinear> && sizeof(Y) == 1) {
    static_assert(sizeof(typename Profile::channel_params) == sizeof(float));
    kernels::x86::requantize_qlinear(acc, ld, pixels, channels, reinterpret_cast<const float*>(d.channel),
                                     d.output.zero_point, d.output.lo, d.output.hi, y);
    return;
  } else if constexpr (arith::is_tflite_profile<Profile> && sizeof(Y) == 1) {
    static_assert(sizeof(typename Profile::channel_params) == 2 * sizeof(std::int32_t) &&
                  std::is_same_v<decltype(Profile::channel_params::shift), int>);
    using kernels::x86::tflite_output_stage;
    const tflite_output_stage stage = arith::HasGemmRequantize<Profile> && gemm ? tflite_output_stage::ruy
                                      : Profile::rounding == arith::tflite_rounding::single_rounding
                                          ? tflite_output_stage::single_rounding
                                          : tflite_output_stage::gemmlowp;
    kernels::x86::requantize_tflite(stage, acc, ld, pixels, channels, reinterpret_cast<const std::int32_t*>(d.channel),
                                    d.output.zero_point, d.output.lo, d.output.hi, y);
    return;
  } else if constexpr (std::is_same_v<Profile, arith::pow2> && sizeof(Y) == 1) {
    kernels::x86::requantize_pow2(acc, ld, pixels, channels, d.channel, d.output, y);
    return;
  } else if constexpr (std::is_same_v<Profile, arith::akida_v1> && sizeof(Y) == 1) {
    kernels::x86::requantize_akida_v1(acc, ld, pixels, channels, d.channel, d.output, y);
    return;
  } else if constexpr (std::is_same_v<Profile, arith::gemmini> && sizeof(Y) == 1) {
    // ACC_SCALE: RNE(float(acc) * scale) saturated to int8 then to [lo, hi] is qlinear's stage with
    // a zero point of 0 and the bounds intersected (rounding is monotonic, the bounds are integers).
    static_assert(sizeof(typename Profile::channel_params) == sizeof(float));
    kernels::x86::requantize_qlinear(acc, ld, pixels, channels, reinterpret_cast<const float*>(d.channel), 0,
                                     std::max(d.output.lo, Profile::int8_min), std::min(d.output.hi, Profile::int8_max), y);
    return;
  }
#elif defined(STATIQ_KERNELS_AVX2)
  // kernels/x86/avx2/requantize.hpp: every profile's stage 8 channels at a time.
  namespace avx2 = kernels::x86::avx2;
  if constexpr (std::is_same_v<Profile, arith::qlinear> && sizeof(Y) == 1) {
    static_assert(sizeof(typename Profile::channel_params) == sizeof(float));
    avx2::requantize_qlinear(acc, ld, pixels, channels, reinterpret_cast<const float*>(d.channel), d.output.zero_point,
                             d.output.lo, d.output.hi, y);
    return;
  } else if constexpr (arith::is_tflite_profile<Profile> && sizeof(Y) == 1) {
    static_assert(sizeof(typename Profile::channel_params) == 2 * sizeof(std::int32_t) &&
                  std::is_same_v<decltype(Profile::channel_params::shift), int>);
    const avx2::tflite_output_stage stage = arith::HasGemmRequantize<Profile> && gemm ? avx2::tflite_output_stage::ruy
                                            : Profile::rounding == arith::tflite_rounding::single_rounding
                                                ? avx2::tflite_output_stage::single_rounding
                                                : avx2::tflite_output_stage::gemmlowp;
    avx2::requantize_tflite(stage, acc, ld, pixels, channels, reinterpret_cast<const std::int32_t*>(d.channel),
                            d.output.zero_point, d.output.lo, d.output.hi, y);
    return;
  } else if constexpr (std::is_same_v<Profile, arith::pow2> && sizeof(Y) == 1) {
    avx2::requantize_pow2(acc, ld, pixels, channels, d.channel, d.output, y);
    return;
  } else if constexpr (std::is_same_v<Profile, arith::akida_v1> && sizeof(Y) == 1) {
    avx2::requantize_akida_v1(acc, ld, pixels, channels, d.channel, d.output, y);
    return;
  } else if constexpr (std::is_same_v<Profile, arith::gemmini> && sizeof(Y) == 1) {
    // As in the AVX-512 branch: qlinear's stage with a zero point of 0 and the bounds intersected.
    static_assert(sizeof(typename Profile::channel_params) == sizeof(float));
    avx2::requantize_qlinear(acc, ld, pixels, channels, reinterpret_cast<const float*>(d.channel), 0,
                             std::max(d.output.lo, Profile::int8_min), std::min(d.output.hi, Profile::int8_max), y);
    return;
  }
#elif defined(STATIQ_KERNELS_ARM_DSP)
  // TFLite / TFLM / CMSIS-NN's double rounding (the device's own arithmetic) on a Cortex-M.
  constexpr bool gemmlowp = [] {
    if constexpr (arith::is_tflite_profile<Profile>)
      return !arith::HasGemmRequantize<Profile> && Profile::rounding == arith::tflite_rounding::double_rounding;
    else
      return false;
  }();
  if constexpr (gemmlowp && sizeof(Y) == 1) {
    kernels::arm::requantize_tflite(acc, ld, pixels, channels, d.channel, d.output.zero_point, d.output.lo,
                                    d.output.hi, y);
    return;
  }
#elif defined(STATIQ_KERNELS_ARM_NEON)
  // The same choices as the x86 branch above, 4 channels a vector (kernels/arm/neon/requantize.hpp).
  namespace neon = kernels::arm::neon;
  if constexpr (std::is_same_v<Profile, arith::qlinear> && sizeof(Y) == 1) {
    static_assert(sizeof(typename Profile::channel_params) == sizeof(float));
    neon::requantize_qlinear(acc, ld, pixels, channels, reinterpret_cast<const float*>(d.channel), d.output.zero_point,
                             d.output.lo, d.output.hi, y);
    return;
  } else if constexpr (arith::is_tflite_profile<Profile> && sizeof(Y) == 1) {
    static_assert(sizeof(typename Profile::channel_params) == 2 * sizeof(std::int32_t) &&
                  std::is_same_v<decltype(Profile::channel_params::shift), int>);
    const neon::tflite_output_stage stage = arith::HasGemmRequantize<Profile> && gemm ? neon::tflite_output_stage::ruy
                                            : Profile::rounding == arith::tflite_rounding::single_rounding
                                                ? neon::tflite_output_stage::single_rounding
                                                : neon::tflite_output_stage::gemmlowp;
    neon::requantize_tflite(stage, acc, ld, pixels, channels, reinterpret_cast<const std::int32_t*>(d.channel),
                            d.output.zero_point, d.output.lo, d.output.hi, y);
    return;
  } else if constexpr (std::is_same_v<Profile, arith::pow2> && sizeof(Y) == 1) {
    neon::requantize_pow2(acc, ld, pixels, channels, d.channel, d.output, y);
    return;
  } else if constexpr (std::is_same_v<Profile, arith::akida_v1> && sizeof(Y) == 1) {
    neon::requantize_akida_v1(acc, ld, pixels, channels, d.channel, d.output, y);
    return;
  } else if constexpr (std::is_same_v<Profile, arith::gemmini> && sizeof(Y) == 1) {
    // ACC_SCALE is qlinear's stage with a zero point of 0 and the bounds intersected (as on x86).
    static_assert(sizeof(typename Profile::channel_params) == sizeof(float));
    neon::requantize_qlinear(acc, ld, pixels, channels, reinterpret_cast<const float*>(d.channel), 0,
                             std::max(d.output.lo, Profile::int8_min), std::min(d.output.hi, Profile::int8_max), y);
    return;
  }
#endif
  for (int p = 0; p < pixels; ++p)
    for (int c = 0; c < channels; ++c) {
      const std::int64_t a = acc[std::size_t(p) * ld + std::size_t(c)];
      y[std::size_t(p) * std::size_t(channels) + std::size_t(c)] =
          static_cast<Y>(gemm ? arith::requantize_gemm<Profile>(a, d.channel[c], d.output)
                              : Profile::requantize(a, d.channel[c], d.output));
    }
}

template <class Profile, class Y>
void requantize_map(const std::int32_t* acc, int pixels, int channels, const LayerData<Profile>& d, Y* y, bool gemm) {
  requantize_rows(acc, std::size_t(channels), pixels, channels, d, y, gemm);
}

// Bits per stored weight of a weight view: the element's bits when packed several to a byte, else 8.
template <class W>
inline constexpr int stored_weight_bits = 8;
template <class W>
  requires(W::per_byte > 1)
inline constexpr int stored_weight_bits<W> = W::element::bits;

// Operands a fast kernel can take: byte activations in and out, weights with a layout.
template <class X, class W, class Y>
concept FastKernelOperands = std::is_integral_v<X> && sizeof(X) == 1 && std::is_integral_v<Y> && sizeof(Y) == 1 &&
                             requires(const W& w) {
                               { w.layout } -> std::convertible_to<WeightLayout>;
                               { w.bytes() } -> std::convertible_to<const std::uint8_t*>;
                             };

// The per-channel weight sums for fast kernel k: `supplied` (LayerData::weight_sums), or, when there
// are none (a LayerData built by hand, the dynamic layers) and k reads them, computed now into the
// first words of scratch (the kernel's constants, which it writes over them channel by channel).
// Null for kernels that need none.
template <class W>
const std::int32_t* weight_sums_for(kernels::ConvKernel k, const std::int32_t* supplied, const W& w, int channels,
                                    std::size_t per_channel, std::int32_t* scratch) {
  if (!kernels::conv_kernel_reads_weight_sums(k)) return nullptr;
  if (supplied) return supplied;
  weight_sums(w, std::size_t(channels), per_channel, scratch);
  return scratch;
}

// Runs fast kernel k over the whole convolution, epilogue(first, count, acc, ld) per block of pixels;
// acc = bias + sum (x - x_zero_point) * (w - w_zero_point) (no bias when bias is null). weight_sums:
// from weight_sums_for().
template <int WeightBits = 8, class X, class Epilogue>
void run_conv_kernel([[maybe_unused]] kernels::ConvKernel k, [[maybe_unused]] const kernels::reference::Conv2DGeometry& g,
                     [[maybe_unused]] const X* x, [[maybe_unused]] std::int32_t x_zero_point,
                     [[maybe_unused]] const WeightLayout& layout, [[maybe_unused]] const std::uint8_t* w,
                     [[maybe_unused]] std::int32_t w_zero_point, [[maybe_unused]] const std::int32_t* bias,
                     [[maybe_unused]] const std::int32_t* weight_sums, [[maybe_unused]] std::int32_t* scratch,
                     [[maybe_unused]] Epilogue&& epilogue) {
#if defined(STATIQ_KERNELS_AVX512_VNNI)
  if (k == kernels::ConvKernel::conv2d_avx512_vnni)
    kernels::x86::conv2d<WeightBits>(g, x, x_zero_point, layout, w, w_zero_point, bias, weight_sums, scratch, epilogue);
  else if (k == kernels::ConvKernel::grouped_conv2d_avx512_vnni)
    kernels::x86::grouped_conv2d<WeightBits>(g, x, x_zero_point, layout, w, w_zero_point, bias, weight_sums, scratch,
                                             epilogue);
  else
    kernels::x86::depthwise_conv2d<WeightBits>(g, x, x_zero_point, layout, w, w_zero_point, bias, scratch, epilogue);
#elif defined(STATIQ_KERNELS_AVX2)
  if (k == kernels::ConvKernel::conv2d_avx2)
    kernels::x86::avx2::conv2d<WeightBits>(g, x, x_zero_point, layout, w, w_zero_point, bias, scratch, epilogue);
  else if (k == kernels::ConvKernel::grouped_conv2d_avx2)
    kernels::x86::avx2::grouped_conv2d<WeightBits>(g, x, x_zero_point, layout, w, w_zero_point, bias, scratch, epilogue);
  else
    kernels::x86::avx2::depthwise_conv2d<WeightBits>(g, x, x_zero_point, layout, w, w_zero_point, bias, scratch, epilogue);
#elif defined(STATIQ_KERNELS_ARM_DSP)
  // Byte weights only: kernels::conv_kernel never picks a Cortex-M kernel for packed ones.
  if constexpr (WeightBits == 8) {
#if defined(STATIQ_KERNELS_ARM_MVE)
    if (k == kernels::ConvKernel::conv2d_arm_mve)
      return kernels::arm::mve::conv2d(g, x, x_zero_point, layout, w, w_zero_point, bias, scratch, epilogue);
    if (k == kernels::ConvKernel::depthwise_conv2d_arm_mve)
      return kernels::arm::mve::depthwise_conv2d(g, x, x_zero_point, layout, w, w_zero_point, bias, scratch, epilogue);
#endif
    if (k == kernels::ConvKernel::conv2d_arm_dsp)
      kernels::arm::conv2d(g, x, x_zero_point, layout, w, w_zero_point, bias, scratch, epilogue);
    else
      kernels::arm::depthwise_conv2d(g, x, x_zero_point, layout, w, w_zero_point, bias, scratch, epilogue);
  }
#elif defined(STATIQ_KERNELS_ARM_NEON)
  // Each branch names the kernel it enters (a test-only trace, kernels/trace.hpp).
  if (k == kernels::ConvKernel::conv2d_neon) {
    STATIQ_KERNEL_RAN(kernels::conv_kernel_name(kernels::ConvKernel::conv2d_neon));
    kernels::arm::neon::conv2d<WeightBits>(g, x, x_zero_point, layout, w, w_zero_point, bias, weight_sums, scratch,
                                           epilogue);
  } else if (k == kernels::ConvKernel::grouped_conv2d_neon) {
    STATIQ_KERNEL_RAN(kernels::conv_kernel_name(kernels::ConvKernel::grouped_conv2d_neon));
    kernels::arm::neon::grouped_conv2d<WeightBits>(g, x, x_zero_point, layout, w, w_zero_point, bias, weight_sums,
                                                   scratch, epilogue);
  } else {
    STATIQ_KERNEL_RAN(kernels::conv_kernel_name(kernels::ConvKernel::depthwise_conv2d_neon));
    kernels::arm::neon::depthwise_conv2d<WeightBits>(g, x, x_zero_point, layout, w, w_zero_point, bias, scratch, epilogue);
  }
#endif
}

// Copies count rows of channels accumulators (ld apart) to dst, packed (the fast kernel's epilogue
// when a pool follows and needs the whole map).
inline void store_accumulator_rows(const std::int32_t* rows, std::size_t ld, int count, int channels,
                                   std::int32_t* dst) {
  for (int p = 0; p < count; ++p) {
    const std::int32_t* row = rows + std::size_t(p) * ld;
#if defined(STATIQ_KERNELS_AVX512_VNNI)
    kernels::x86::store_accumulators(row, channels, dst + std::size_t(p) * std::size_t(channels));
#else
    std::copy_n(row, channels, dst + std::size_t(p) * std::size_t(channels));
#endif
  }
}

// A fused MaxPool over the accumulator map acc (conv_output_shape(a)), one pooled output row at a
// time into `row` (out.w * filters words), each handed to emit(oh, row) at once: the rows of the
// window, pooled with the same pads across and none down. No pooled map is kept.
template <class Emit>
void max_pool_rows(const ConvAttributes& a, const std::int32_t* acc, std::int32_t* row, Emit&& emit) {
  const Shape conv_shape = conv_output_shape(a);
  const Shape out_shape = output_shape(a);
  const int channels = a.filters;
  const Pads pool_pads = resolve_pads(a.pool.pads, conv_shape, a.pool.kernel, a.pool.strides);
  const std::size_t pixel_words = std::size_t(conv_shape.w) * std::size_t(channels);
  for (int oh = 0; oh < out_shape.h; ++oh) {
    const int first = std::max(oh * a.pool.strides.h - pool_pads.top, 0);
    const int last = std::min(oh * a.pool.strides.h - pool_pads.top + a.pool.kernel.h, conv_shape.h);
    const int rows = last - first;
    kernels::max_pool(Shape{rows, conv_shape.w, channels}, Shape{1, out_shape.w, channels},
                      Kernel{rows, a.pool.kernel.w}, Stride{1, a.pool.strides.w},
                      Pads{0, pool_pads.left, 0, pool_pads.right}, acc + std::size_t(first) * pixel_words, row);
    emit(oh, static_cast<const std::int32_t*>(row));
  }
}
}  // namespace detail

// The whole fused convolution: accumulate (kernels/reference), then the target's order of
// MaxPool / activation / GlobalAveragePool / requantization. x is NHWC, w OHWI, y NHWC.
// W is a weight view (qview, or the simulation's run-time view) indexed in logical OHWI order; a fast
// kernel reads its bytes in the layout it names. scratch holds scratch_words(a, w.layout) words.
template <class Profile, class X, class W, class Y>
void compute(const ConvAttributes& a, const X* x, const W& w, const LayerData<Profile>& d, Y* y,
             std::int32_t* scratch) {
  const Shape conv_shape = conv_output_shape(a);
  const Shape out_shape = output_shape(a);
  const kernels::reference::Conv2DGeometry g = conv_geometry(a);
  const int channels = a.filters;
  // A group-1 convolution is a GEMM (im2col) in the runtimes that have one (TFLite's CONV_2D).
  const bool gemm = a.group == 1;
  std::int32_t* acc = scratch;
  kernels::ConvKernel kernel = kernels::ConvKernel::reference;
  if constexpr (detail::FastKernelOperands<X, W, Y>) {
    assert(a.signed_input == std::is_signed_v<X> && "the scratch was sized for the attributes' input type");
    kernel = conv_kernel(a, w.layout);
  }
  if (kernel != kernels::ConvKernel::reference) {
    if constexpr (detail::FastKernelOperands<X, W, Y>) {
      const std::int32_t* sums =
          detail::weight_sums_for(kernel, d.weight_sums, w, channels, weight_count(a) / std::size_t(channels), scratch);
      if (a.pool.kind == PoolKind::none) {
        // Requantized in the kernel's epilogue, a block of pixels at a time: no accumulator map.
        detail::run_conv_kernel<detail::stored_weight_bits<W>>(
            kernel, g, x, d.input_zero_point, w.layout, w.bytes(), d.weight_zero_point, d.bias, sums, scratch,
            [&](int first, int count, const std::int32_t* rows, std::size_t ld) {
                                  detail::requantize_rows(rows, ld, count, channels, d,
                                                          y + std::size_t(first) * std::size_t(channels), gemm);
                                });
        return;
      }
      acc = scratch + fast_map_offset(a, w.layout);
      detail::run_conv_kernel<detail::stored_weight_bits<W>>(
          kernel, g, x, d.input_zero_point, w.layout, w.bytes(), d.weight_zero_point, d.bias, sums, scratch,
          [&](int first, int count, const std::int32_t* rows, std::size_t ld) {
                                detail::store_accumulator_rows(rows, ld, count, channels,
                                                               acc + std::size_t(first) * std::size_t(channels));
                              });
    }
  } else {
    STATIQ_KERNEL_RAN(kernels::conv_kernel_name(kernels::ConvKernel::reference));
    kernels::reference::conv2d(g, x, d.input_zero_point, w, d.weight_zero_point, d.bias, acc);
  }
  if (a.pool.kind == PoolKind::max) {
    // Requantization is monotonic per channel, so pooling the accumulators equals pooling the
    // requantized outputs (the ONNX order) and is the order Akida executes.
    const Pads pool_pads = resolve_pads(a.pool.pads, conv_shape, a.pool.kernel, a.pool.strides);
    if (kernel == kernels::ConvKernel::reference) {
      std::int32_t* pooled = acc + conv_shape.size();
      kernels::max_pool(conv_shape, out_shape, a.pool.kernel, a.pool.strides, pool_pads,
                        static_cast<const std::int32_t*>(acc), pooled);
      detail::requantize_map(pooled, out_shape.h * out_shape.w, channels, d, y, gemm);
    } else {
      // One pooled row at a time, into the kernel's scratch (free now), requantized at once.
      detail::max_pool_rows(a, acc, scratch, [&](int oh, const std::int32_t* row) {
        detail::requantize_map(row, out_shape.w, channels, d,
                               y + std::size_t(oh) * std::size_t(out_shape.w) * std::size_t(channels), gemm);
      });
    }
  } else if (a.pool.kind == PoolKind::global_average) {
    // The activation comes before the average (Conv -> ReLU -> GAP), on the accumulators; the
    // 1/(H*W) is folded into the channel scale; the clip applies per pixel, not to the sum.
    auto after_sum = d.output;
    std::int64_t clip = std::numeric_limits<std::int64_t>::max();
    if constexpr (has_accumulator_clip<Profile>) {
      if (a.activation.kind == ActivationKind::clipped_relu) clip = d.output.accumulator_clip;
      after_sum.accumulator_clip = std::numeric_limits<decltype(after_sum.accumulator_clip)>::max();
    }
    const int pixels = conv_shape.h * conv_shape.w;
    for (int c = 0; c < channels; ++c) {
      std::int64_t sum = 0;
      for (int i = 0; i < pixels; ++i) {
        std::int64_t v = acc[std::size_t(i) * std::size_t(channels) + std::size_t(c)];
        if (a.activation.kind != ActivationKind::none) v = std::clamp<std::int64_t>(v, 0, clip);
        sum += v;
      }
      y[c] = static_cast<Y>(Profile::requantize(sum, d.channel[c], after_sum));
    }
  } else {
    detail::requantize_map(acc, conv_shape.h * conv_shape.w, channels, d, y, gemm);
  }
}

namespace detail {

// The rules every convolution must meet whatever the target, then the target's own.
template <fixed_string Name, LayerKind Kind, ConvAttributes A, class Target>
constexpr auto check_convolution() {
  constexpr Shape in = A.input;
  constexpr bool positive = in.h > 0 && in.w > 0 && in.c > 0 && A.filters > 0 && A.kernel.h > 0 &&
                            A.kernel.w > 0 && A.strides.h > 0 && A.strides.w > 0 && A.dilations.h > 0 &&
                            A.dilations.w > 0 && A.group > 0;
  constexpr bool divisible = positive && in.c % A.group == 0 && A.filters % A.group == 0;
  constexpr Shape conv_out = window_output_shape(in, A.filters, A.kernel, A.strides, A.pads, A.dilations);
  constexpr bool non_empty = !positive || (conv_out.h > 0 && conv_out.w > 0);
  constexpr std::int64_t taps = positive ? std::int64_t{A.kernel.h} * A.kernel.w * (in.c / A.group) : 0;
  constexpr std::int64_t sums = A.pool.kind == PoolKind::global_average
                                    ? std::int64_t{conv_out.h} * conv_out.w : 1;
  constexpr bool bits_ok = valid_bit_width(A.bits.in) && valid_bit_width(A.bits.w) && valid_bit_width(A.bits.out);
  constexpr std::int64_t bound =
      bits_ok ? accumulator_bound(taps, A.bits.in, A.signed_input, A.bits.w, A.weight_stats, sums) : 0;
  constexpr int acc_bits = Target::profile::accumulator_bits;
  using namespace diag;
  constexpr auto common = report_first<
      rule<positive, shape_has_a_non_positive_dimension<Name, in, A.filters, A.kernel, A.strides>>,
      rule<divisible, channels_not_divisible_by_group<Name, in.c, A.filters, A.group>>,
      rule<Kind != LayerKind::depthwise_conv2d || A.group == in.c,
           depthwise_needs_group_equal_to_channels<Name, in.c, A.group>>,
      rule<non_empty, output_is_empty<Name, in, A.kernel, A.strides, A.pads>>,
      rule<bits_ok, bit_width_not_1_2_4_or_8<Name, A.bits>>,
      rule<A.pool.kind == PoolKind::none || A.pool.kind == PoolKind::max ||
               A.pool.kind == PoolKind::global_average,
           fused_pool_must_be_max_or_global_average<Name, A.pool>>,
      rule<(A.activation.kind != ActivationKind::clipped_relu || A.pool.kind != PoolKind::global_average ||
             has_accumulator_clip<typename Target::profile>),
           clipped_relu_before_global_average_needs_accumulator_clip<Name>>,
      rule<bound <= accumulator_limit(acc_bits),
           accumulator_may_overflow<Name, bound, acc_bits, accumulator_limit(acc_bits)>>>();
  if constexpr (!common) {
    return common;  // failed; the target is not asked, so the user reads one error
  } else {
    return Target::template check<Name, Kind, A>();
  }
}

}  // namespace detail

// A convolution layer of kind Kind named Name (the ONNX node name) with attributes A, for Target.
// The call operator reads an NHWC input, writes the NHWC output, and uses `scratch` for the
// int32 accumulators (the engine places it in its arena).
template <LayerKind Kind, fixed_string Name, ConvAttributes A, class Target>
class Convolution {
 public:
  using target = Target;
  using profile = typename Target::profile;
  static_assert(arith::ArithmeticProfile<profile>, "statiq: Target::profile must be an arithmetic profile");

  static constexpr LayerKind kind = Kind;
  static constexpr std::string_view name = Name.view();
  static constexpr auto fixed_name = Name;
  static constexpr ConvAttributes attributes = A;
  // All rules, target rules included; only the first broken one is reported.
  static constexpr auto verdict = detail::check_convolution<Name, Kind, A, Target>();
  static constexpr bool valid = verdict.ok;
  STATIQ_REPORT(verdict);

  static constexpr Shape input_shape = A.input;
  static constexpr Pads pads = resolve_pads(A.pads, A.input, A.kernel, A.strides, A.dilations);
  // Before the fused pooling; a broken layer gets a 1x1 shape so that no second error follows.
  static constexpr Shape conv_shape =
      valid ? window_output_shape(A.input, A.filters, A.kernel, A.strides, A.pads, A.dilations)
            : Shape{1, 1, 1};
  static constexpr Shape output_shape = valid ? A.pool.output_shape(conv_shape) : Shape{1, 1, 1};
  static constexpr Pattern pattern = fused_pattern("Conv", A.activation, A.pool);

  static constexpr int filters = valid ? A.filters : 1;
  static constexpr int group = valid ? A.group : 1;
  static constexpr std::size_t weight_count =
      valid ? std::size_t(A.filters) * A.kernel.h * A.kernel.w * (A.input.c / A.group) : 1;
  static constexpr std::size_t params = weight_count + std::size_t(filters);  // weights + biases
  static constexpr std::int64_t macs = std::int64_t(conv_shape.h) * conv_shape.w * std::int64_t(weight_count);

  using input_type = qint<valid ? A.bits.in : 8, A.signed_input>;
  using output_type = qint<valid ? A.bits.out : 8, A.signed_output>;
  using weight_type = qint<valid ? A.bits.w : 8, true>;
  using input_element = typename input_type::storage;
  using output_element = typename output_type::storage;
  static constexpr bool packed_weights = Target::packs_sub_byte;
  // Where each weight is stored (kernels/select.hpp), part of the weights' type.
  static constexpr WeightLayout weight_layout =
      valid ? statiq::weight_layout(A, elements_per_byte<weight_type, packed_weights> == 1) : row_major_layout;
  using weights_view = qview<weight_type, weight_count, packed_weights, weight_layout>;
  using weights_array = qarray<weight_type, weight_count, packed_weights, weight_layout>;
  static constexpr kernels::ConvKernel kernel = valid ? conv_kernel(A, weight_layout) : kernels::ConvKernel::reference;
  static constexpr std::string_view kernel_name = kernels::conv_kernel_name(kernel);

  static constexpr std::size_t scratch_words = valid ? statiq::scratch_words(A, weight_layout) : 1;

  // Weights OHWI ([filters][kh][kw][in.c / group]).
  using parameters = WeightedParameters<profile, weights_view, std::size_t(filters)>;

  constexpr explicit Convolution(const parameters& p) : p_(p) {}
  constexpr const parameters& data() const { return p_; }

  void operator()(const input_element* x, output_element* y, std::int32_t* scratch) const {
    compute(A, x, p_.weights, p_.data(), y, scratch);
  }

 private:
  parameters p_;
};

}  // namespace statiq
