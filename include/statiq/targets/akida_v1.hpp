// statiq/targets/akida_v1.hpp — BrainChip Akida 1.0 (CNN2SNN): 1, 2 or 4-bit weights and
// activations with the ceiling activation quantizer, and the 1.0 layer limits of TARGETS.md.
#pragma once

#include "statiq/arith/akida_v1.hpp"
#include "statiq/layers/add.hpp"
#include "statiq/layers/concat.hpp"
#include "statiq/layers/convolution.hpp"
#include "statiq/layers/dense.hpp"
#include "statiq/layers/dequantize.hpp"
#include "statiq/layers/pool_layer.hpp"
#include "statiq/layers/quantize.hpp"
#include "statiq/targets/rules.hpp"

namespace statiq::targets {

struct akida_v1 {
  static constexpr fixed_string name{"akida_v1"};
  using profile = arith::akida_v1;
  static constexpr bool packs_sub_byte = true;
  static constexpr std::size_t memory_bytes = 0;

  // Akida 1.0 layers (InputConvolutional, Convolutional, FullyConnected) with their fused parts.
  // 1.0 averages BEFORE its activation, so Conv -> Relu -> GlobalAveragePool is not here; there is
  // no Add, Concat, clipped ReLU or stand-alone depthwise layer.
  static constexpr Pattern patterns[] = {
      {{"Conv", "Relu", "MaxPool"}, 3}, {{"Conv", "GlobalAveragePool"}, 2}, {{"Conv", "Relu"}, 2},
      {{"Conv"}, 1},                    {{"Gemm", "Relu"}, 2},              {{"Gemm"}, 1},
      {{"QuantizeLinear"}, 1},          {{"DequantizeLinear"}, 1},
  };

  static constexpr bool low_bits(int b) { return b == 1 || b == 2 || b == 4; }

  // InputConvolutional filter limits by (channels, kernel): 1 channel 512/192/96, 3 channels 192/64/32.
  static constexpr int max_input_filters(int channels, int kernel) {
    if (channels == 1) return kernel == 3 ? 512 : kernel == 5 ? 192 : 96;
    return kernel == 3 ? 192 : kernel == 5 ? 64 : 32;
  }

  template <fixed_string Name, LayerKind Kind, auto A>
  static constexpr bool check() {
    using namespace diag;
    if constexpr (Kind == LayerKind::depthwise_conv2d) {
      return report_first<rule<false, depthwise_is_fused_with_pointwise_on_akida_v1<Name, name>>>();
    } else if constexpr (Kind == LayerKind::input_conv2d || Kind == LayerKind::conv2d) {
      constexpr Pattern p = fused_pattern("Conv", A.activation, A.pool);
      constexpr bool relu_then_gap =
          A.activation.kind != ActivationKind::none && A.pool.kind == PoolKind::global_average;
      constexpr Shape in = A.input;
      constexpr Kernel k = A.kernel;
      constexpr Stride s = A.strides;
      constexpr Pads same = resolve_pads(Pads::same, in, k, s);
      constexpr Pads found = resolve_pads(A.pads, in, k, s);
      constexpr Shape conv_out = window_output_shape(in, A.filters, k, s, A.pads);
      if constexpr (Kind == LayerKind::input_conv2d) {
        constexpr bool kernel_ok = k.h == k.w && (k.h == 3 || k.h == 5 || k.h == 7);
        constexpr bool pool_ok =
            A.pool.kind == PoolKind::none ||
            (A.pool.kind == PoolKind::max && A.pool.kernel.h <= 2 && A.pool.kernel.w <= 2 &&
             A.pool.kernel.h * A.pool.kernel.w >= 2 && A.pool.stride.h == A.pool.kernel.h &&
             A.pool.stride.w == A.pool.kernel.w);
        return report_first<
            rule<!relu_then_gap, global_average_before_relu_on_akida_v1<Name, name>>,
            rule<table_has(patterns, p), pattern_not_in_target_table<Name, name, pattern_text(p)>>,
            rule<A.bits.in == 8 && !A.signed_input, input_must_be_unsigned_8_bit<Name, name, A.bits.in, A.signed_input>>,
            rule<in.c == 1 || in.c == 3, input_channels_not_supported<Name, name, in.c>>,
            rule<(in.w >= 5 && in.h >= 5 && in.h <= 256), input_size_out_of_range<Name, name, in, 5, 256>>,
            rule<kernel_ok, kernel_size_not_supported<Name, name, Kind, k>>,
            rule<(s.h == s.w && s.h >= 1 && s.h <= 3), stride_not_supported_for_kernel<Name, name, k, s, 3>>,
            rule<pads_are_same_or_valid(A.pads, in, k, s, true), expects_pads<Name, name, pads_text(same), pads_text(found)>>,
            rule<A.dilations == Dilation{1, 1}, dilation_not_supported<Name, name, A.dilations>>,
            rule<A.group == 1, groups_not_supported<Name, name, A.group>>,
            rule<!kernel_ok || A.filters <= max_input_filters(in.c, k.h),
                 too_many_filters<Name, name, A.filters, max_input_filters(in.c, k.h)>>,
            rule<pool_ok, pool_not_supported<Name, name, A.pool>>,
            rule<A.bits.w == 8, weight_bits_not_supported<Name, name, A.bits.w, text_of("{8}")>>,
            rule<low_bits(A.bits.out), output_bits_not_supported<Name, name, A.bits.out, text_of("{1, 2, 4}")>>>();
      } else {
        constexpr bool kernel_ok = k.h == k.w && (k.h == 1 || k.h == 3 || k.h == 5 || k.h == 7);
        constexpr bool pool_ok =
            A.pool.kind == PoolKind::none ||
            (A.pool.kind == PoolKind::max && A.pool.kernel == Kernel{2, 2} && A.pool.stride == Stride{2, 2}) ||
            A.pool.kind == PoolKind::global_average;
        return report_first<
            rule<!relu_then_gap, global_average_before_relu_on_akida_v1<Name, name>>,
            rule<table_has(patterns, p), pattern_not_in_target_table<Name, name, pattern_text(p)>>,
            rule<kernel_ok, kernel_size_not_supported<Name, name, Kind, k>>,
            rule<s.h == s.w && (s.h == 1 || s.h == 2), stride_not_supported_for_kernel<Name, name, k, s, 2>>,
            rule<s.h == 1 || k == Kernel{3, 3}, stride_2_only_with_3x3_kernels<Name, name, k, s>>,
            rule<pads_are_same_or_valid(A.pads, in, k, s, k == Kernel{1, 1}),
                 expects_pads<Name, name, pads_text(same), pads_text(found)>>,
            rule<(conv_out.h >= 3), output_rows_too_few<Name, name, conv_out.h>>,
            rule<A.dilations == Dilation{1, 1}, dilation_not_supported<Name, name, A.dilations>>,
            rule<A.group == 1, groups_not_supported<Name, name, A.group>>,
            rule<pool_ok, pool_not_supported<Name, name, A.pool>>,
            rule<A.pool.kind != PoolKind::global_average || conv_out.w <= 32,
                 global_average_pool_input_too_large<Name, name, conv_out, 32, 1 << 30>>,
            rule<low_bits(A.bits.in), input_bits_not_supported<Name, name, A.bits.in, text_of("{1, 2, 4}")>>,
            rule<low_bits(A.bits.w), weight_bits_not_supported<Name, name, A.bits.w, text_of("{1, 2, 4}")>>,
            rule<low_bits(A.bits.out), output_bits_not_supported<Name, name, A.bits.out, text_of("{1, 2, 4}")>>>();
      }
    } else if constexpr (Kind == LayerKind::dense) {
      constexpr Pattern p = fused_pattern("Gemm", A.activation, no_pool);
      return report_first<
          rule<table_has(patterns, p), pattern_not_in_target_table<Name, name, pattern_text(p)>>,
          rule<low_bits(A.bits.in), input_bits_not_supported<Name, name, A.bits.in, text_of("{1, 2, 4}")>>,
          rule<low_bits(A.bits.w), weight_bits_not_supported<Name, name, A.bits.w, text_of("{1, 2, 4}")>>,
          rule<low_bits(A.bits.out), output_bits_not_supported<Name, name, A.bits.out, text_of("{1, 2, 4}")>>>();
    } else if constexpr (Kind == LayerKind::quantize || Kind == LayerKind::dequantize) {
      return true;
    } else {
      return report_first<rule<false, layer_kind_not_supported_by_target<Name, name, Kind>>>();
    }
  }
};

}  // namespace statiq::targets
