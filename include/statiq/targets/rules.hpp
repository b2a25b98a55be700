// statiq/targets/rules.hpp — the vocabulary the targets state their limits in: pattern tables,
// and the diagnostics a broken hardware rule produces (layer, target and numbers in the type).
#pragma once

#include <cstddef>
#include <span>

#include "statiq/core/diagnostics.hpp"
#include "statiq/core/fixed_string.hpp"
#include "statiq/core/pool.hpp"
#include "statiq/core/shape.hpp"
#include "statiq/layers/layer_kind.hpp"

namespace statiq {

constexpr bool table_has(std::span<const Pattern> table, const Pattern& p) {
  for (const Pattern& q : table)
    if (q == p) return true;
  return false;
}

constexpr text<> text_of(std::string_view s) {
  text<> t;
  t.append(s);
  return t;
}

// "[t, l, b, r]" for a diagnostic.
constexpr text<> pads_text(Pads p) {
  text<> t;
  auto num = [&t](int v) {
    char buf[12]{};
    int n = 0;
    bool neg = v < 0;
    unsigned u = neg ? 0u - static_cast<unsigned>(v) : static_cast<unsigned>(v);
    do { buf[n++] = static_cast<char>('0' + u % 10); u /= 10; } while (u);
    if (neg) buf[n++] = '-';
    char out[12]{};
    for (int i = 0; i < n; ++i) out[i] = buf[n - 1 - i];
    t.append(std::string_view(out, static_cast<std::size_t>(n)));
  };
  t.append("[");
  num(p.top); t.append(", ");
  num(p.left); t.append(", ");
  num(p.bottom); t.append(", ");
  num(p.right);
  t.append("]");
  return t;
}

// Whether explicit pads equal the target's "same" convention (or none at all, "valid").
constexpr bool pads_are_same_or_valid(Pads given, Shape in, Kernel k, Stride s, bool valid_allowed) {
  const Pads r = resolve_pads(given, in, k, s);
  const Pads same = resolve_pads(Pads::same, in, k, s);
  const bool is_same = r.top == same.top && r.left == same.left && r.bottom == same.bottom && r.right == same.right;
  const bool is_valid = r.top == 0 && r.left == 0 && r.bottom == 0 && r.right == 0;
  return is_same || (valid_allowed && is_valid);
}

namespace diag {
STATIQ_DIAGNOSTIC(pattern_not_in_target_table,
                  "this operator sequence is not one of the target's fused patterns: change the fusion, "
                  "place the layer on the host (statiq::targets::host<...>) or let statiq-codegen legalize it",
                  fixed_string Layer, fixed_string Target, text<> ops);
STATIQ_DIAGNOSTIC(layer_kind_not_supported_by_target,
                  "the target has no layer of this kind: place it on the host (statiq::targets::host<...>)",
                  fixed_string Layer, fixed_string Target, LayerKind kind);
STATIQ_DIAGNOSTIC(kernel_size_not_supported, "kernel size not supported by the target", fixed_string Layer,
                  fixed_string Target, LayerKind kind, Kernel kernel);
STATIQ_DIAGNOSTIC(stride_2_only_with_3x3_kernels, "stride 2 only with 3x3 kernels", fixed_string Layer,
                  fixed_string Target, Kernel kernel, Stride strides);
STATIQ_DIAGNOSTIC(stride_not_supported_for_kernel, "stride not supported for this kernel size",
                  fixed_string Layer, fixed_string Target, Kernel kernel, Stride strides, int max_stride);
STATIQ_DIAGNOSTIC(expects_pads, "padding must follow the target's \"same\" convention (odd pixel at the end): "
                  "expects pads [top, left, bottom, right]; pre-pad the input or let statiq-codegen legalize it",
                  fixed_string Layer, fixed_string Target, text<> expected, text<> found);
STATIQ_DIAGNOSTIC(input_bits_not_supported, "input bits not supported by the target", fixed_string Layer,
                  fixed_string Target, int bits, text<> allowed);
STATIQ_DIAGNOSTIC(weight_bits_not_supported, "weight bits not supported by the target", fixed_string Layer,
                  fixed_string Target, int bits, text<> allowed);
STATIQ_DIAGNOSTIC(output_bits_not_supported, "output bits not supported by the target", fixed_string Layer,
                  fixed_string Target, int bits, text<> allowed);
STATIQ_DIAGNOSTIC(input_must_be_unsigned_8_bit, "the input layer reads unsigned 8-bit pixels", fixed_string Layer,
                  fixed_string Target, int bits, bool signed_input);
STATIQ_DIAGNOSTIC(activations_must_be_signed, "the target's activations are signed integers (zero point 0)",
                  fixed_string Layer, fixed_string Target);
STATIQ_DIAGNOSTIC(input_channels_not_supported, "input layer channels must be 1 or 3", fixed_string Layer,
                  fixed_string Target, int channels);
STATIQ_DIAGNOSTIC(input_size_out_of_range, "input height/width outside the target's range", fixed_string Layer,
                  fixed_string Target, Shape input, int min_size, int max_height);
STATIQ_DIAGNOSTIC(tensor_too_large, "height, width or channels above the target's limit", fixed_string Layer,
                  fixed_string Target, Shape input, int max_hw, int max_channels);
STATIQ_DIAGNOSTIC(too_many_filters, "more filters than the target's layer allows", fixed_string Layer,
                  fixed_string Target, int filters, int max_filters);
STATIQ_DIAGNOSTIC(dilation_not_supported, "the target has no dilated convolution", fixed_string Layer,
                  fixed_string Target, Dilation dilations);
STATIQ_DIAGNOSTIC(groups_not_supported, "the target has no grouped convolution (only depthwise)",
                  fixed_string Layer, fixed_string Target, int group);
STATIQ_DIAGNOSTIC(pool_not_supported, "this pooling (size, stride) cannot be fused on the target",
                  fixed_string Layer, fixed_string Target, Pool pool);
STATIQ_DIAGNOSTIC(global_average_pool_input_too_large, "GlobalAveragePool input too large for the target",
                  fixed_string Layer, fixed_string Target, Shape input, int max_width, int max_pixels_exclusive);
STATIQ_DIAGNOSTIC(dense_input_too_large, "Dense input (H*W*C) above the target's limit", fixed_string Layer,
                  fixed_string Target, int inputs, int max_inputs);
STATIQ_DIAGNOSTIC(output_rows_too_few, "the layer must produce at least 3 rows on this target",
                  fixed_string Layer, fixed_string Target, int rows);
STATIQ_DIAGNOSTIC(global_average_before_relu_on_akida_v1,
                  "Akida 1.0 averages before the ReLU (Conv -> GAP -> ReLU); Conv -> ReLu -> GAP is a 2.0 pattern",
                  fixed_string Layer, fixed_string Target);
STATIQ_DIAGNOSTIC(depthwise_is_fused_with_pointwise_on_akida_v1,
                  "Akida 1.0 has no stand-alone depthwise layer: it fuses depthwise and pointwise "
                  "(SeparableConvolutional)",
                  fixed_string Layer, fixed_string Target);
}  // namespace diag

}  // namespace statiq
