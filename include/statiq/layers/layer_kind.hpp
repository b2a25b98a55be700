// statiq/layers/layer_kind.hpp — the kinds of layer a target is asked about, and the ONNX op
// sequence (the pattern) each kind of fused layer stands for.
#pragma once

#include <cstddef>
#include <string_view>

#include "statiq/core/activation.hpp"
#include "statiq/core/pool.hpp"

namespace statiq {

enum class LayerKind {
  input_conv2d,
  conv2d,
  depthwise_conv2d,
  dense,
  add,
  concat,
  max_pool,
  average_pool,
  global_average_pool,
  quantize,
  dequantize,
  lookup_table,  // statiq/layers/lookup_table.hpp: LeakyRelu, Sigmoid, Tanh, HardSigmoid, HardSwish ...
  elementwise,   // statiq/layers/elementwise.hpp: Mul (QLinearMul), Max, Min, Sub of two tensors
  copy,          // statiq/layers/copy.hpp: Resize (nearest), values moved by an index table
};

constexpr std::string_view layer_kind_name(LayerKind k) {
  switch (k) {
    case LayerKind::input_conv2d: return "InputConv2D";
    case LayerKind::conv2d: return "Conv2D";
    case LayerKind::depthwise_conv2d: return "DepthwiseConv2D";
    case LayerKind::dense: return "Dense";
    case LayerKind::add: return "Add";
    case LayerKind::concat: return "Concat";
    case LayerKind::max_pool: return "MaxPool";
    case LayerKind::average_pool: return "AveragePool";
    case LayerKind::global_average_pool: return "GlobalAveragePool";
    case LayerKind::quantize: return "Quantize";
    case LayerKind::dequantize: return "Dequantize";
    case LayerKind::lookup_table: return "LookupTable";
    case LayerKind::elementwise: return "Elementwise";
    case LayerKind::copy: return "Copy";
  }
  return "?";
}

// Layers whose output element i depends on their inputs' element i alone, computed block by block
// (read a block, write the same block): they may write their output over an input of the same size
// that no later layer reads (engine/arena.hpp, share_in_place).
constexpr bool runs_in_place(LayerKind k) {
  return k == LayerKind::add || k == LayerKind::lookup_table || k == LayerKind::elementwise;
}

// A short text that can be a template argument, so a diagnostic can show an op sequence.
template <std::size_t N = 48>
struct text {
  char data[N]{};
  constexpr text() = default;
  constexpr void append(std::string_view s) {
    std::size_t n = 0;
    while (n < N - 1 && data[n] != '\0') ++n;
    for (char ch : s) {
      if (n >= N - 1) break;
      data[n++] = ch;
    }
  }
  constexpr std::string_view view() const {
    std::size_t n = 0;
    while (n < N && data[n] != '\0') ++n;
    return {data, n};
  }
};

// The ONNX operator sequence of a fused layer, in the spelling of the pattern tables
// (TARGETS.md): e.g. Conv -> Relu -> MaxPool.
struct Pattern {
  std::string_view ops[4]{};
  int size = 0;

  constexpr bool operator==(const Pattern& o) const {
    if (size != o.size) return false;
    for (int i = 0; i < size; ++i)
      if (ops[i] != o.ops[i]) return false;
    return true;
  }
};

constexpr std::string_view activation_op(Activation a) {
  switch (a.kind) {
    case ActivationKind::relu: return "Relu";
    case ActivationKind::clipped_relu: return "Clip";
    default: return {};
  }
}

constexpr std::string_view pool_op(Pool p) {
  switch (p.kind) {
    case PoolKind::max: return "MaxPool";
    case PoolKind::average: return "AveragePool";
    case PoolKind::global_average: return "GlobalAveragePool";
    default: return {};
  }
}

// The pattern a fused layer is made of. The order of the optional parts is the ONNX order of
// the source graph (Conv -> Relu -> MaxPool); a target executes them in its own order.
constexpr Pattern fused_pattern(std::string_view head, Activation a, Pool p) {
  Pattern r;
  r.ops[r.size++] = head;
  if (!activation_op(a).empty()) r.ops[r.size++] = activation_op(a);
  if (!pool_op(p).empty()) r.ops[r.size++] = pool_op(p);
  return r;
}

template <std::size_t N = 48>
constexpr text<N> pattern_text(const Pattern& p) {
  text<N> t;
  for (int i = 0; i < p.size; ++i) {
    if (i) t.append(" -> ");
    t.append(p.ops[i]);
  }
  return t;
}

}  // namespace statiq
