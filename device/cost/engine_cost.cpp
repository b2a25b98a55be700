// device/cost/engine_cost.cpp — what one inference of a generated engine costs on the board:
// instructions executed (statiq::board::instructions, exact to the SysTick granularity under
// qemu -icount) in total and per layer, the measured peak stack, the arena and its lower bound. It runs golden
// vector 0 and checks the integer output, so the figures are those of a correct inference.
// Compiled with -DSTATIQ_MODEL_HEADER="<name>.hpp" -DSTATIQ_MODEL_NAMESPACE=<name>.
#include STATIQ_MODEL_HEADER

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <utility>

#include "board.hpp"

namespace net = STATIQ_MODEL_NAMESPACE;

namespace {

net::model engine = net::make_model();  // static: the arena is in .bss, not on the stack

template <std::size_t... I>
void run_layers(std::uint64_t* per_layer, std::index_sequence<I...>) {
  std::uint64_t t = 0;
  ((t = statiq::board::instructions(), engine.run_layer<I>(), per_layer[I] = statiq::board::instructions() - t), ...);
}

template <std::size_t... I>
void print_layers(const std::uint64_t* per_layer, std::index_sequence<I...>) {
  (std::printf("layer %zu %.*s %llu\n", I, static_cast<int>(net::model::layer_at<I>::name.size()),
               net::model::layer_at<I>::name.data(), static_cast<unsigned long long>(per_layer[I])),
   ...);
}

bool output_is_golden() {
  const auto q = engine.tensor<net::quantized_output_node>();
  for (std::size_t i = 0; i < q.size(); ++i)
    if (static_cast<std::int32_t>(q[i]) != net::golden_quantized_outputs[0][i]) return false;
  return true;
}

// The arena reuses the input's bytes once the first layer has read them: fill it before each run.
void load_golden_input() {
  const auto input = engine.input();
  for (std::size_t i = 0; i < input.size(); ++i)
    input[i] = static_cast<net::model::input_element>(net::golden_inputs[0][i]);
}

}  // namespace

int main() {
  constexpr std::size_t layers = net::model::node_count;
  load_golden_input();

  const std::uint64_t t0 = statiq::board::instructions();
  engine.run();
  const std::uint64_t total = statiq::board::instructions() - t0;
  const bool ok = output_is_golden();

  std::uint64_t per_layer[layers] = {};
  load_golden_input();
  run_layers(per_layer, std::make_index_sequence<layers>{});
  const bool ok_again = output_is_golden();

  std::printf("board %s\n", statiq::board::name());
  std::printf("kernels %s\n", statiq::kernels::isa_name(statiq::kernels::isa));  // kernels/isa.hpp
  std::printf("instructions %llu\n", static_cast<unsigned long long>(total));
  print_layers(per_layer, std::make_index_sequence<layers>{});
  std::printf("arena %zu\n", net::model::arena_bytes);
  // No plan can use less: the most bytes live at one step (engine/arena.hpp).
  std::printf("arena_lower_bound %zu at step %d\n", net::model::arena_lower_bound.bytes, net::model::arena_lower_bound.step);
  std::printf("peak_stack %zu of %zu\n", statiq::board::peak_stack_bytes(), statiq::board::stack_bytes());
  if (!ok || !ok_again) {
    std::printf("engine_cost: golden vector 0's integer output differs: the figures are not those of a correct "
                "inference; run the self-test for the first difference\n");
    return 1;
  }
  return 0;
}
