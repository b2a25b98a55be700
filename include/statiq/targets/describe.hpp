// statiq/targets/describe.hpp — a Violation as text, for reports that run outside the compiler
// (statiq-codegen's pattern matching uses the very rules the layer types check).
#pragma once

#include <string>

#include <fmt/format.h>

#include "statiq/targets/rules.hpp"

namespace statiq {

// "<rule>: <message> (<the numbers of this case>)", e.g.
// "stride_2_only_with_3x3_kernels: stride 2 only with 3x3 kernels (kernel 5x5, strides 2x2)".
inline std::string describe(const Violation& v) {
  if (!v.broken()) return "no rule broken";
  std::string details;
  auto kernel = [&] { return fmt::format("kernel {}x{}", v.kernel.h, v.kernel.w); };
  auto strides = [&] { return fmt::format("strides {}x{}", v.strides.h, v.strides.w); };
  auto shape = [&] { return fmt::format("{}x{}x{}", v.shape.h, v.shape.w, v.shape.c); };
  switch (v.rule) {
    case Rule::pattern_not_in_target_table: details = fmt::format("{}", v.text1.view()); break;
    case Rule::layer_kind_not_supported_by_target: details = std::string(layer_kind_name(v.kind)); break;
    case Rule::kernel_size_not_supported: details = fmt::format("{}, {}", layer_kind_name(v.kind), kernel()); break;
    case Rule::stride_2_only_with_3x3_kernels: details = fmt::format("{}, {}", kernel(), strides()); break;
    case Rule::stride_not_supported_for_kernel:
      details = fmt::format("{}, {}, at most {}", kernel(), strides(), v.limit);
      break;
    case Rule::expects_pads: details = fmt::format("expects pads {}, found {}", v.text1.view(), v.text2.view()); break;
    case Rule::pool_expects_pads:
      details = fmt::format("expects pool pads {}, found {}", v.text1.view(), v.text2.view());
      break;
    case Rule::input_bits_not_supported:
    case Rule::weight_bits_not_supported:
    case Rule::output_bits_not_supported: details = fmt::format("{} not in {}", v.value, v.text1.view()); break;
    case Rule::input_must_be_unsigned_8_bit:
      details = fmt::format("{} bits, {}", v.value, v.flag ? "signed" : "unsigned");
      break;
    case Rule::input_channels_not_supported: details = fmt::format("{} channels", v.value); break;
    case Rule::input_size_out_of_range:
      details = fmt::format("input {}, width >= {}, height in [{}, {}]", shape(), v.limit, v.limit, v.limit2);
      break;
    case Rule::tensor_too_large:
      details = fmt::format("input {}, H, W <= {}, C <= {}", shape(), v.limit, v.limit2);
      break;
    case Rule::too_many_filters: details = fmt::format("{} filters, at most {}", v.value, v.limit); break;
    case Rule::dilation_not_supported: details = fmt::format("dilations {}x{}", v.dilations.h, v.dilations.w); break;
    case Rule::groups_not_supported: details = fmt::format("group {}", v.value); break;
    case Rule::pool_not_supported:
      details = fmt::format("{} {}x{} stride {}x{}", pool_op(v.pool), v.pool.kernel.h, v.pool.kernel.w,
                            v.pool.strides.h, v.pool.strides.w);
      break;
    case Rule::global_average_pool_input_too_large:
      details = fmt::format("input {}, width <= {}, W*H < {}", shape(), v.limit, v.limit2);
      break;
    case Rule::dense_input_too_large: details = fmt::format("{} inputs, at most {}", v.value, v.limit); break;
    case Rule::output_rows_too_few: details = fmt::format("{} rows", v.value); break;
    case Rule::max_pool_must_feed_a_convolution: details = fmt::format("feeds a {}", layer_kind_name(v.kind)); break;
    default: break;
  }
  std::string s = fmt::format("{}: {}", name_of(v.rule), message_of(v.rule));
  if (!details.empty()) s += fmt::format(" ({})", details);
  return s;
}

}  // namespace statiq
