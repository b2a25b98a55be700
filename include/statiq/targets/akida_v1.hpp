// statiq/targets/akida_v1.hpp — BrainChip Akida 1.0 (CNN2SNN): 1, 2 or 4-bit weights and
// activations with the ceiling activation quantizer, and the 1.0 layer limits of TARGETS.md.
#pragma once

#include "statiq/arith/akida_v1.hpp"
#include "statiq/layers/add.hpp"
#include "statiq/layers/concat.hpp"
#include "statiq/layers/convolution.hpp"
#include "statiq/layers/copy.hpp"
#include "statiq/layers/dense.hpp"
#include "statiq/layers/dequantize.hpp"
#include "statiq/layers/lookup_table.hpp"
#include "statiq/layers/elementwise.hpp"
#include "statiq/layers/pool_layer.hpp"
#include "statiq/layers/quantize.hpp"
#include "statiq/targets/rules.hpp"

namespace statiq::targets {

struct akida_v1 : target_rules<akida_v1> {
  static constexpr fixed_string name{"akida_v1"};
  using profile = arith::akida_v1;
  static constexpr bool packs_sub_byte = true;
  static constexpr std::size_t memory_bytes = 0;
  // For statiq-codegen: the fields are described in statiq/targets/target_list.hpp.
  static constexpr std::string_view description =
      "BrainChip Akida 1.0 (CNN2SNN): 1, 2 or 4 bits, ceiling activations";
  static constexpr bool hardware = true;
  static constexpr bool akida_conventions = true;
  static constexpr bool signed_activations = false;
  static constexpr int default_bits = 4;

  // Akida 1.0 layers (InputConvolutional, Convolutional, FullyConnected) with their fused parts.
  // 1.0 averages BEFORE its activation, so Conv -> Relu -> GlobalAveragePool is not here; there is
  // no Add, Concat, clipped ReLU or stand-alone depthwise layer.
  static constexpr Pattern patterns[] = {
      {{"Conv", "Relu", "MaxPool"}, 3}, {{"Conv", "GlobalAveragePool"}, 2}, {{"Conv", "Relu"}, 2},
      {{"Conv"}, 1},                    {{"Gemm", "Relu"}, 2},              {{"Gemm"}, 1},
      {{"QuantizeLinear"}, 1},          {{"DequantizeLinear"}, 1},
  };

  // InputConvolutional filter limits by (channels, kernel): 1 channel 512/192/96, 3 channels 192/64/32.
  static constexpr int max_input_filters(int channels, int kernel) {
    if (channels == 1) return kernel == 3 ? 512 : kernel == 5 ? 192 : 96;
    return kernel == 3 ? 192 : kernel == 5 ? 64 : 32;
  }

  // InputConvolutional: W >= 5, H in [5, 256], C in {1, 3}; 3x3, 5x5, 7x7, stride 1-3; same or
  // valid; MaxPool 1x2, 2x1, 2x2 with stride = size; bits 8/8/(1|2|4).
  // Convolutional: output >= 3 rows; 1x1, 3x3, 5x5, 7x7; stride 1 or 2 (2 only with 3x3); same;
  // MaxPool 2x2; GAP width <= 32; bits (1|2|4).
  static constexpr Violation rules(LayerKind kind, const ConvAttributes& a) {
    if (kind == LayerKind::depthwise_conv2d) return {.rule = Rule::depthwise_is_fused_with_pointwise_on_akida_v1};
    const Pattern p = fused_pattern("Conv", a.activation, a.pool);
    const Shape in = a.input;
    const Kernel k = a.kernel;
    const Stride s = a.strides;
    const Pads same = resolve_pads(Pads::same, in, k, s);
    const Pads found = resolve_pads(a.pads, in, k, s);
    const Shape conv_out = window_output_shape(in, a.filters, k, s, a.pads);
    if (a.activation.kind != ActivationKind::none && a.pool.kind == PoolKind::global_average)
      return {.rule = Rule::global_average_before_relu_on_akida_v1};
    if (!table_has(patterns, p)) return {.rule = Rule::pattern_not_in_target_table, .text1 = pattern_text(p)};
    if (kind == LayerKind::input_conv2d) {
      const bool kernel_ok = k.h == k.w && (k.h == 3 || k.h == 5 || k.h == 7);
      const bool pool_ok = a.pool.kind == PoolKind::none ||
                           (a.pool.kind == PoolKind::max && a.pool.kernel.h <= 2 && a.pool.kernel.w <= 2 &&
                            a.pool.kernel.h * a.pool.kernel.w >= 2 && a.pool.strides.h == a.pool.kernel.h &&
                            a.pool.strides.w == a.pool.kernel.w);
      if (a.bits.in != 8 || a.signed_input)
        return {.rule = Rule::input_must_be_unsigned_8_bit, .value = a.bits.in, .flag = a.signed_input};
      if (in.c != 1 && in.c != 3) return {.rule = Rule::input_channels_not_supported, .value = in.c};
      if (in.w < 5 || in.h < 5 || in.h > 256)
        return {.rule = Rule::input_size_out_of_range, .shape = in, .limit = 5, .limit2 = 256};
      if (!kernel_ok) return {.rule = Rule::kernel_size_not_supported, .kind = kind, .kernel = k};
      if (s.h != s.w || s.h < 1 || s.h > 3)
        return {.rule = Rule::stride_not_supported_for_kernel, .kernel = k, .strides = s, .limit = 3};
      if (!pads_are_same_or_valid(a.pads, in, k, s, true))
        return {.rule = Rule::expects_pads, .text1 = pads_text(same), .text2 = pads_text(found)};
      if (a.dilations != Dilation{1, 1}) return {.rule = Rule::dilation_not_supported, .dilations = a.dilations};
      if (a.group != 1) return {.rule = Rule::groups_not_supported, .value = a.group};
      if (a.filters > max_input_filters(in.c, k.h))
        return {.rule = Rule::too_many_filters, .value = a.filters, .limit = max_input_filters(in.c, k.h)};
      if (!pool_ok) return {.rule = Rule::pool_not_supported, .pool = a.pool};
      return check_bits(a.bits, any_bits, {8}, {1, 2, 4});
    }
    const bool kernel_ok = k.h == k.w && (k.h == 1 || k.h == 3 || k.h == 5 || k.h == 7);
    const bool pool_ok = a.pool.kind == PoolKind::none ||
                         (a.pool.kind == PoolKind::max && a.pool.kernel == Kernel{2, 2} && a.pool.strides == Stride{2, 2}) ||
                         a.pool.kind == PoolKind::global_average;
    if (!kernel_ok) return {.rule = Rule::kernel_size_not_supported, .kind = kind, .kernel = k};
    if (s.h != s.w || (s.h != 1 && s.h != 2))
      return {.rule = Rule::stride_not_supported_for_kernel, .kernel = k, .strides = s, .limit = 2};
    if (s.h != 1 && k != Kernel{3, 3}) return {.rule = Rule::stride_2_only_with_3x3_kernels, .kernel = k, .strides = s};
    if (!pads_are_same_or_valid(a.pads, in, k, s, k == Kernel{1, 1}))
      return {.rule = Rule::expects_pads, .text1 = pads_text(same), .text2 = pads_text(found)};
    if (conv_out.h < 3) return {.rule = Rule::output_rows_too_few, .value = conv_out.h};
    if (a.dilations != Dilation{1, 1}) return {.rule = Rule::dilation_not_supported, .dilations = a.dilations};
    if (a.group != 1) return {.rule = Rule::groups_not_supported, .value = a.group};
    if (!pool_ok) return {.rule = Rule::pool_not_supported, .pool = a.pool};
    if (a.pool.kind == PoolKind::global_average && conv_out.w > 32)
      return {.rule = Rule::global_average_pool_input_too_large, .shape = conv_out, .limit = 32, .limit2 = 1 << 30};
    return check_bits(a.bits, {1, 2, 4}, {1, 2, 4}, {1, 2, 4});
  }

  static constexpr Violation rules(LayerKind, const DenseAttributes& a) {
    const Pattern p = fused_pattern("Gemm", a.activation, no_pool);
    if (!table_has(patterns, p)) return {.rule = Rule::pattern_not_in_target_table, .text1 = pattern_text(p)};
    return check_bits(a.bits, {1, 2, 4}, {1, 2, 4}, {1, 2, 4});
  }
  static constexpr Violation rules(LayerKind, const QuantizeAttributes&) { return no_violation; }
  static constexpr Violation rules(LayerKind, const DequantizeAttributes&) { return no_violation; }
  // No Add, Concat or stand-alone pooling on Akida 1.0.
  template <class Attributes>
  static constexpr Violation rules(LayerKind kind, const Attributes&) {
    return {.rule = Rule::layer_kind_not_supported_by_target, .kind = kind};
  }
};

}  // namespace statiq::targets
