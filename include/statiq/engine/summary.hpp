// statiq/engine/summary.hpp — summary<Model>(): the model as a table (layer, type, output shape,
// kernel, bits, params, MACs, output buffer) with totals and the arena, printed with {fmt}.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "statiq/engine/graph.hpp"
#include "statiq/layers/layer_kind.hpp"
#include "statiq/targets/host.hpp"

namespace statiq {

namespace detail {

template <class L>
std::string kernel_cell() {
  if constexpr (requires { L::attributes.kernel; }) {
    constexpr auto a = L::attributes;
    return fmt::format("{}x{}/{}", a.kernel.h, a.kernel.w, a.strides.h);
  } else if constexpr (requires { L::attributes.pool; }) {
    constexpr auto a = L::attributes;
    if constexpr (a.pool.kind == PoolKind::global_average) return "global";
    else return fmt::format("{}x{}/{}", a.pool.kernel.h, a.pool.kernel.w, a.pool.strides.h);
  } else {
    return "";
  }
}

template <class L>
std::string bits_cell() {
  if constexpr (requires { requires L::dynamic; }) {
    return "f32/8/f32";  // statiq/layers/dynamic.hpp: uint8 x int8 inside, float at both ends
  } else if constexpr (requires { L::attributes.bits.w; }) {
    constexpr auto b = L::attributes.bits;
    if constexpr (L::kind == LayerKind::add || L::kind == LayerKind::concat || L::kind == LayerKind::max_pool ||
                  L::kind == LayerKind::average_pool || L::kind == LayerKind::global_average_pool ||
                  L::kind == LayerKind::lookup_table || L::kind == LayerKind::elementwise ||
                  L::kind == LayerKind::copy)
      return fmt::format("{}/-/{}", b.in, b.out);
    else
      return fmt::format("{}/{}/{}", b.in, b.w, b.out);
  } else if constexpr (requires { L::attributes.bits; }) {
    return fmt::format("{}", L::attributes.bits);
  } else {
    return "";
  }
}

// The kernel that runs the layer in this build: each layer type's kernel_name (convolutions and Dense:
// kernels/select.hpp; the element-wise layers: their own compile-time choice, with the run-time
// condition where one remains); "-" for a layer type without one (a dynamic layer).
template <class L>
std::string runs_on_cell() {
  if constexpr (requires { L::kernel_name; }) return std::string(L::kernel_name);
  else return "-";
}

template <class L>
std::string type_cell() {
  std::string t(layer_kind_name(L::kind));
  if constexpr (requires { requires L::dynamic; }) t = "Dynamic" + t;
  if constexpr (requires { L::pattern; }) {
    if constexpr (L::pattern.size > 1) {
      t += " (";
      for (int i = 1; i < L::pattern.size; ++i) {
        if (i > 1) t += ", ";
        t += std::string(L::pattern.ops[i]);
      }
      t += ")";
    }
  }
  if constexpr (targets::is_host_target<typename L::target>) t += " [host]";
  return t;
}

}  // namespace detail

// The summary table of a Graph/Sequential type, as text.
template <class Model>
std::string summary() {
  std::string out;
  const std::string rule(138, '-');
  out += fmt::format("Model: {} layers, target {}\n", Model::node_count, std::string_view(Model::target::name));
  out += fmt::format("Input {}x{}x{}  ->  Output {}x{}x{}\n", Model::input_shape.h, Model::input_shape.w,
                     Model::input_shape.c, Model::output_shape.h, Model::output_shape.w, Model::output_shape.c);
  out += rule + "\n";
  out += fmt::format("{:<28} {:<36} {:>12} {:>9} {:>7} {:>9} {:>10}  {}\n", "Layer", "Type", "Output", "Kernel",
                     "Bits", "Params", "MACs", "Runs on");
  out += rule + "\n";
  std::size_t params = 0;
  std::int64_t macs = 0;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          using L = typename Model::template layer_at<I>;
          params += L::params;
          macs += L::macs;
          out += fmt::format("{:<28} {:<36} {:>12} {:>9} {:>7} {:>9} {:>10}  {}\n", std::string(L::name),
                             detail::type_cell<L>(),
                             fmt::format("{}x{}x{}", L::output_shape.h, L::output_shape.w, L::output_shape.c),
                             detail::kernel_cell<L>(), detail::bits_cell<L>(), L::params, L::macs,
                             detail::runs_on_cell<L>());
        }(),
        ...);
  }(std::make_index_sequence<Model::node_count>{});
  out += rule + "\n";
  out += fmt::format("Total params: {}   MACs: {}   Arena: {} bytes (without reuse {} bytes, {} layers in place save {} "
                     "bytes, lower bound {} bytes at step {})", params, macs, Model::arena_bytes,
                     Model::arena_bytes_without_reuse, Model::in_place_nodes,
                     Model::arena_bytes_without_in_place - Model::arena_bytes, Model::arena_lower_bound.bytes,
                     Model::arena_lower_bound.step);
  if constexpr (Model::target::memory_bytes > 0)
    out += fmt::format("   Target memory: {} bytes", Model::target::memory_bytes);
  out += "\n";
  return out;
}

}  // namespace statiq
