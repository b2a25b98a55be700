// bench/neon/engine_insns.cpp — a generated engine (STATIQ_MODEL_HEADER, namespace STATIQ_MODEL_NAMESPACE)
// run argv[1] times on its first golden vector, for bench/neon/count.sh's instruction counts per
// inference under qemu-aarch64; prints the kernels it ran and its integer outputs.
#include <cstdio>
#include <cstdlib>

#include STATIQ_MODEL_HEADER

namespace m = STATIQ_MODEL_NAMESPACE;

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 1;
  static m::model engine = m::make_model();
  const auto input = engine.input();
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<m::model::input_element>(m::golden_inputs[0][i]);
  for (int r = 0; r < runs; ++r) engine.run();
  const auto q = engine.tensor<m::quantized_output_node>();
  std::printf("kernels: %s; outputs", statiq::kernels::isa_name(statiq::kernels::isa));
  bool exact = true;
  for (std::size_t i = 0; i < q.size(); ++i) {
    std::printf(" %d", static_cast<int>(q[i]));
    exact = exact && static_cast<std::int32_t>(q[i]) == m::golden_quantized_outputs[0][i];
  }
  std::printf(exact ? " (the golden vector's)\n" : " (NOT the golden vector's)\n");
  return exact ? 0 : 1;
}
