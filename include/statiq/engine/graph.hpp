// statiq/engine/graph.hpp — Graph: a network as a list of nodes (a layer and the nodes it reads),
// checked at compile time (shapes and element types chain, the arena fits the target), run on one
// static arena planned by liveness, with no heap allocation. Sequential is the chain shorthand.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>

#include "statiq/core/diagnostics.hpp"
#include "statiq/core/fixed_string.hpp"
#include "statiq/core/shape.hpp"
#include "statiq/engine/arena.hpp"
#include "statiq/layers/layer_kind.hpp"
#include "statiq/targets/host.hpp"
#include "statiq/targets/rules.hpp"

namespace statiq {

// A node: Layer reading the outputs of the nodes at indices Inputs (-1: the graph's input).
// Without Inputs, a single-input layer reads the previous node (the graph input for the first).
template <class Layer, int... Inputs>
struct node {
  using layer = Layer;
  static constexpr std::array<int, sizeof...(Inputs)> inputs{Inputs...};
};

// What flows along an edge: an integer of some bits and signedness, or a float.
struct ElementType {
  int bits = 8;
  bool is_signed = false;
  bool is_float = false;
  constexpr bool operator==(const ElementType&) const = default;
};

namespace detail {

template <class L>
constexpr int arity_of() {
  if constexpr (requires { L::arity; }) return L::arity;
  else return 1;
}

template <class L>
constexpr Shape input_shape_of(int i) {
  if constexpr (requires { L::input_shape(0); }) return L::input_shape(i);
  else return L::input_shape;
}

template <class E, class Q>
constexpr ElementType element_type_of() {
  if constexpr (std::is_same_v<E, float>) return ElementType{32, true, true};
  else return ElementType{Q::bits, Q::is_signed, false};
}

template <class L>
constexpr ElementType input_element_type();

// The element type input j of L reads (an Add's second input may differ in signedness).
template <class L>
constexpr ElementType input_element_type(int j) {
  if constexpr (requires { typename L::second_input_type; }) {
    if (j == 1) return ElementType{L::second_input_type::bits, L::second_input_type::is_signed, false};
  }
  return input_element_type<L>();
}

template <class L>
constexpr ElementType input_element_type() {
  if constexpr (std::is_same_v<typename L::input_element, float>) return ElementType{32, true, true};
  else return element_type_of<typename L::input_element, typename L::input_type>();
}

template <class L>
constexpr ElementType output_element_type() {
  if constexpr (std::is_same_v<typename L::output_element, float>) return ElementType{32, true, true};
  else return element_type_of<typename L::output_element, typename L::output_type>();
}

// The pool a layer fuses (none for layers that fuse no pool).
template <class L>
constexpr Pool fused_pool_of() {
  if constexpr (requires { L::attributes.pool; }) return L::attributes.pool;
  else return no_pool;
}

template <class T>
struct device_of_t { using type = T; };
template <class T>
struct device_of_t<targets::host<T>> { using type = T; };
template <class T>
using device_of = typename device_of_t<T>::type;

}  // namespace detail

namespace diag {
STATIQ_DIAGNOSTIC(node_reads_a_later_node, "a node may only read earlier nodes (-1 is the graph input)",
                  fixed_string Layer, int node_index, int input_index);
STATIQ_DIAGNOSTIC(node_has_wrong_number_of_inputs, "the node lists a different number of inputs than its layer takes",
                  fixed_string Layer, int listed, int expected);
STATIQ_DIAGNOSTIC(shapes_do_not_chain, "a layer's input shape differs from the shape its producer outputs",
                  fixed_string Layer, int input, Shape produced, Shape expected);
STATIQ_DIAGNOSTIC(element_types_do_not_chain,
                  "a layer's input element type (bits, signedness) differs from what its producer outputs",
                  fixed_string Layer, int input, ElementType produced, ElementType expected);
STATIQ_DIAGNOSTIC(graph_inputs_disagree,
                  "every layer reading the graph input (-1) must expect the same shape and element type",
                  fixed_string Layer, Shape expected, Shape graph_input);
STATIQ_DIAGNOSTIC_SHOWING(arena_exceeds_target_memory, spelled_name<Target>,
                  "the engine's arena (activations + scratch, after reuse) exceeds the target's memory",
                  fixed_string Target, std::size_t arena_bytes, std::size_t memory_bytes);
STATIQ_DIAGNOSTIC_SHOWING(arena_exceeds_board_memory, spelled_name<Model>,
                  "the engine's arena (activations + scratch, after reuse) does not fit the board's data memory "
                  "(its RAM less the stack and statics): a board with more RAM, or a smaller model",
                  fixed_string Model, fixed_string Board, fixed_string Target, std::size_t arena_bytes,
                  std::size_t board_arena_bytes);
}  // namespace diag

template <class... Nodes>
class Graph {
 public:
  static constexpr std::size_t node_count = sizeof...(Nodes);
  static_assert(node_count > 0, "statiq: a Graph needs at least one node");
  using layers = std::tuple<typename Nodes::layer...>;
  template <std::size_t I>
  using layer_at = std::tuple_element_t<I, layers>;

  // The target whose memory the arena must fit: the device of the first layer.
  using target = detail::device_of<typename layer_at<0>::target>;

 private:
  // Input edges of each node, defaults filled in: edges[i][j], count[i]. Room for the most inputs
  // any node lists, so none is dropped: a count that differs from the layer's arity is reported.
  static constexpr std::size_t max_inputs = std::max({std::size_t{1}, Nodes::inputs.size()...});
  struct Edges {
    std::array<std::array<int, max_inputs>, node_count> from{};
    std::array<int, node_count> count{};
    std::array<int, node_count> expected{};
  };
  static constexpr Edges make_edges() {
    Edges e;
    std::size_t i = 0;
    (
        [&] {
          constexpr auto listed = Nodes::inputs;
          e.expected[i] = detail::arity_of<typename Nodes::layer>();
          if constexpr (listed.size() == 0) {
            e.count[i] = 1;
            e.from[i][0] = static_cast<int>(i) - 1;
          } else {
            e.count[i] = static_cast<int>(listed.size());
            for (std::size_t j = 0; j < listed.size(); ++j) e.from[i][j] = listed[j];
          }
          ++i;
        }(),
        ...);
    return e;
  }
  static constexpr Edges edges = make_edges();

  static constexpr std::array<Shape, node_count> output_shapes{Nodes::layer::output_shape...};
  static constexpr std::array<ElementType, node_count> output_types{
      detail::output_element_type<typename Nodes::layer>()...};
  static constexpr std::array<LayerKind, node_count> kinds{Nodes::layer::kind...};
  static constexpr std::array<Shape, node_count> first_input_shapes{detail::input_shape_of<typename Nodes::layer>(0)...};
  static constexpr std::array<ElementType, node_count> input_types{detail::input_element_type<typename Nodes::layer>()...};
  // The first node that reads the graph input defines it; -1 if none does.
  static constexpr int first_input_reader = [] {
    for (std::size_t n = 0; n < node_count; ++n)
      for (int j = 0; j < edges.count[n]; ++j)
        if (edges.from[n][j] == -1) return int(n);
    return -1;
  }();

  template <std::size_t I>
  static constexpr auto check_node() {
    using L = layer_at<I>;
    constexpr const Edges& e = edges;
    constexpr int count = edges.count[I];
    // The inputs past a wrong count are not the layer's: only the count is reported then.
    constexpr int checked = count == edges.expected[I] ? count : 0;
    constexpr auto bad_index = [] {
      for (int j = 0; j < checked; ++j)
        if (edges.from[I][j] < -1 || edges.from[I][j] >= static_cast<int>(I)) return j;
      return -1;
    }();
    constexpr auto mismatch = [] {
      // first input j whose shape or type differs from its producer's; -1 if none
      for (int j = 0; j < checked; ++j) {
        const int f = edges.from[I][j];
        if (f < 0) continue;
        if (output_shapes[f] != detail::input_shape_of<L>(j)) return j;
      }
      return -1;
    }();
    constexpr auto type_mismatch = [] {
      for (int j = 0; j < checked; ++j) {
        const int f = edges.from[I][j];
        if (f < 0) continue;
        if (output_types[f] != detail::input_element_type<L>(j)) return j;
      }
      return -1;
    }();
    constexpr auto input_disagrees = [] {
      // an input j of this node reading the graph input, expecting other than the first reader
      for (int j = 0; j < checked; ++j)
        if (edges.from[I][j] == -1 && first_input_reader >= 0 &&
            (detail::input_shape_of<L>(j) != first_input_shapes[std::size_t(first_input_reader)] ||
             detail::input_element_type<L>(j) != input_types[std::size_t(first_input_reader)]))
          return j;
      return -1;
    }();
    constexpr Shape graph_input = first_input_shapes[std::size_t(first_input_reader < 0 ? 0 : first_input_reader)];
    constexpr int mj = mismatch < 0 ? 0 : mismatch;
    constexpr int tj = type_mismatch < 0 ? 0 : type_mismatch;
    constexpr int mf = e.from[I][mj] < 0 ? 0 : e.from[I][mj];
    constexpr int tf = e.from[I][tj] < 0 ? 0 : e.from[I][tj];
    using namespace diag;
    return report_first<
        rule<count == e.expected[I], node_has_wrong_number_of_inputs<L::fixed_name, count, e.expected[I]>>,
        rule<bad_index < 0, node_reads_a_later_node<L::fixed_name, int(I), e.from[I][bad_index < 0 ? 0 : bad_index]>>,
        rule<mismatch < 0, shapes_do_not_chain<L::fixed_name, mj, output_shapes[mf], detail::input_shape_of<L>(mj)>>,
        rule<type_mismatch < 0,
             element_types_do_not_chain<L::fixed_name, tj, output_types[tf], detail::input_element_type<L>(tj)>>,
        rule<input_disagrees < 0,
             graph_inputs_disagree<L::fixed_name, detail::input_shape_of<L>(input_disagrees < 0 ? 0 : input_disagrees),
                                   graph_input>>>();
  }

  // The target's rules about how layers connect (targets/rules.hpp, Connection), for each edge
  // out of node I: the first broken one is reported, naming the producer and the consumer.
  template <std::size_t I>
  static constexpr auto check_consumers() {
    using L = layer_at<I>;
    using T = typename L::target;  // a layer on the host is bound by no device rule
    constexpr Violation broken = [] {
      const Pool pool = detail::fused_pool_of<L>();
      for (std::size_t k = I + 1; k < node_count; ++k)
        for (int j = 0; j < edges.count[k]; ++j)
          if (edges.from[k][j] == static_cast<int>(I))
            if (const Violation v = T::connects(Connection{L::kind, pool, kinds[k]}); v.broken()) {
              Violation at = v;
              at.value = static_cast<int>(k);
              return at;
            }
      return no_violation;
    }();
    if constexpr (broken.broken()) {
      using C = layer_at<std::size_t(broken.value)>;
      return report_connection_violation<L::fixed_name, T::name, C::fixed_name, broken>();
    } else {
      return diag::holds;
    }
  }

  static constexpr bool layers_valid = (Nodes::layer::valid && ...);
  // Every node's inputs, then the targets' connection rules; the first failure is reported.
  static constexpr auto edges_verdict = [] {
    if constexpr (!layers_valid) {
      return diag::holds;  // the broken layer has reported; do not pile chaining errors on top
    } else {
      return []<std::size_t... I>(std::index_sequence<I...>) {
        return diag::first_failed<decltype(check_node<I>())..., decltype(check_consumers<I>())...>{};
      }(std::make_index_sequence<node_count>{});
    }
  }();
  static constexpr bool edges_valid = layers_valid && edges_verdict.ok;
  STATIQ_REPORT(edges_verdict);

  // Buffers: [0] the graph input, [1 + i] the output of node i, [1 + N + i] node i's scratch.
  static constexpr std::size_t buffer_count = 1 + 2 * node_count;
  template <class E>
  static constexpr std::size_t bytes_of(int elements) {
    return sizeof(E) * static_cast<std::size_t>(elements);
  }
  static constexpr std::array<BufferUse, buffer_count> make_uses(bool in_place) {
    std::array<BufferUse, buffer_count> u{};
    const int last_step = static_cast<int>(node_count) - 1;
    std::size_t i = 0;
    (
        [&] {
          using L = typename Nodes::layer;
          u[1 + i] = BufferUse{bytes_of<typename L::output_element>(L::output_shape.size()), int(i),
                               i + 1 == node_count ? last_step : int(i)};
          u[1 + node_count + i] = BufferUse{L::scratch_words * sizeof(std::int32_t), int(i), int(i)};
          ++i;
        }(),
        ...);
    for (std::size_t n = 0; n < node_count; ++n)
      for (int j = 0; j < edges.count[n]; ++j) {
        const int f = edges.from[n][j];
        BufferUse& b = u[std::size_t(f + 1)];
        if (int(n) > b.last) b.last = int(n);
      }
    if (in_place)
      for (std::size_t n = 0; n < node_count; ++n)
        if (runs_in_place(kinds[n]))
          for (int j = 0; j < edges.count[n]; ++j)
            if (share_in_place(u, 1 + n, std::size_t(edges.from[n][j] + 1))) break;
    return u;
  }

  // The graph input: what the first node reading it expects.
  static constexpr int input_reader = first_input_reader < 0 ? 0 : first_input_reader;

 public:
  using input_layer = layer_at<std::size_t(input_reader)>;
  using output_layer = layer_at<node_count - 1>;
  using input_element = typename input_layer::input_element;
  using output_element = typename output_layer::output_element;
  static constexpr Shape input_shape = detail::input_shape_of<input_layer>(0);
  static constexpr Shape output_shape = output_layer::output_shape;
  static constexpr bool valid = layers_valid && edges_valid;

 private:
  static constexpr std::array<BufferUse, buffer_count> uses_of(bool in_place) {
    auto u = make_uses(in_place);
    u[0].bytes = bytes_of<input_element>(input_shape.size());
    u[0].first = 0;
    return u;
  }
  static constexpr std::array<BufferUse, buffer_count> uses = uses_of(true);
  static constexpr ArenaPlan<buffer_count> plan = plan_arena(uses);

 public:
  static constexpr std::size_t arena_bytes = plan.bytes;
  // Without reuse, for the summary: what liveness saved.
  static constexpr std::size_t arena_bytes_without_reuse = [] {
    std::size_t s = 0;
    for (const auto& b : uses) s += align_up(b.bytes);
    return s;
  }();
  // What running elementwise layers in place saved: the plan with every output in its own buffer.
  static constexpr std::size_t arena_bytes_without_in_place = plan_arena(uses_of(false)).bytes;
  // The nodes that write their output over an input's buffer (none when that would not save).
  static constexpr std::size_t in_place_nodes = [] {
    std::size_t k = 0;
    for (std::size_t n = 0; n < node_count; ++n) k += uses[1 + n].shares >= 0 ? 1 : 0;
    return plan.in_place ? k : 0;
  }();
  // The least any plan could use (engine/arena.hpp): the most bytes live at one step.
  static constexpr ArenaBound arena_lower_bound = statiq::arena_lower_bound(uses);
  static constexpr std::size_t buffer_offset(std::size_t b) { return plan.offsets[b]; }

 private:
  static constexpr auto memory_verdict = [] {
    if constexpr (target::memory_bytes > 0 && valid && requires { typename target::board; }) {
      return diag::report_first<diag::rule<
          (arena_bytes <= target::memory_bytes),
          diag::arena_exceeds_board_memory<target::model_name, target::board::name, target::name, arena_bytes,
                                           target::memory_bytes>>>();
    } else if constexpr (target::memory_bytes > 0 && valid) {
      return diag::report_first<diag::rule<(arena_bytes <= target::memory_bytes),
                                           diag::arena_exceeds_target_memory<target::name, arena_bytes,
                                                                             target::memory_bytes>>>();
    } else {
      return diag::holds;
    }
  }();
  STATIQ_REPORT(memory_verdict);

 public:
  constexpr Graph() = default;
  constexpr explicit Graph(const typename Nodes::layer&... ls) : layers_(ls...) {}

  // The graph input and output live in the arena: fill input(), run(), read output().
  std::span<input_element, std::size_t(input_shape.size())> input() {
    return std::span<input_element, std::size_t(input_shape.size())>(
        reinterpret_cast<input_element*>(arena_ + plan.offsets[0]), std::size_t(input_shape.size()));
  }
  std::span<const output_element, std::size_t(output_shape.size())> output() const {
    return std::span<const output_element, std::size_t(output_shape.size())>(
        reinterpret_cast<const output_element*>(arena_ + plan.offsets[node_count]), std::size_t(output_shape.size()));
  }

  // Runs every layer in order. No heap allocation, no exception.
  void run() {
    [this]<std::size_t... I>(std::index_sequence<I...>) { (run_node<I>(), ...); }(std::make_index_sequence<node_count>{});
  }

  // Runs node I alone, reading what the nodes before it wrote: run() is run_layer<0>() ...
  // run_layer<node_count - 1>(). For a cost per layer (bench/device), not for skipping layers.
  template <std::size_t I>
  void run_layer() {
    static_assert(I < node_count, "statiq: run_layer<I>: I is not a node of this graph");
    run_node<I>();
  }

  // The output of node I (after run()), e.g. to compare with golden vectors layer by layer.
  template <std::size_t I>
  std::span<const typename layer_at<I>::output_element> tensor() const {
    using E = typename layer_at<I>::output_element;
    return {reinterpret_cast<const E*>(arena_ + plan.offsets[1 + I]), std::size_t(layer_at<I>::output_shape.size())};
  }

  template <std::size_t I>
  const layer_at<I>& layer() const { return std::get<I>(layers_); }

 private:
  template <std::size_t I, int J>
  const auto* input_of() const {
    using L = layer_at<I>;
    const std::byte* p = arena_ + plan.offsets[std::size_t(edges.from[I][J] + 1)];
    if constexpr (J == 1 && requires { typename L::second_input_element; })
      return reinterpret_cast<const typename L::second_input_element*>(p);
    else
      return reinterpret_cast<const typename L::input_element*>(p);
  }

  template <std::size_t I>
  void run_node() {
    using L = layer_at<I>;
    auto* out = reinterpret_cast<typename L::output_element*>(arena_ + plan.offsets[1 + I]);
    auto* scratch = reinterpret_cast<std::int32_t*>(arena_ + plan.offsets[1 + node_count + I]);
    const L& layer = std::get<I>(layers_);
    if constexpr (L::kind == LayerKind::add || L::kind == LayerKind::elementwise) {
      layer(input_of<I, 0>(), input_of<I, 1>(), out, scratch);
    } else if constexpr (L::kind == LayerKind::concat) {
      [&]<int... J>(std::integer_sequence<int, J...>) {
        layer(std::array<const typename L::input_element*, sizeof...(J)>{input_of<I, J>()...}, out, scratch);
      }(std::make_integer_sequence<int, L::arity>{});
    } else {
      layer(input_of<I, 0>(), out, scratch);
    }
  }

  layers layers_{};
  alignas(64) std::byte arena_[arena_bytes > 0 ? arena_bytes : 1]{};
};

// A chain: each layer reads the one before it.
template <class... Layers>
using Sequential = Graph<node<Layers>...>;

}  // namespace statiq
