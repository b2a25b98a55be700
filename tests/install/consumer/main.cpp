// A user's program: one layer and a model through the installed statiq, checked and run.
#include <statiq/statiq.hpp>

#include <cstdio>

using namespace statiq;
using T = targets::cpu_int8;
struct q : Quantize<"q", QuantizeAttributes{.shape = {1, 1, 4}}, T> { using Quantize::Quantize; };
struct dq : Dequantize<"dq", DequantizeAttributes{.shape = {1, 1, 4}}, T> { using Dequantize::Dequantize; };
using model = Sequential<q, dq>;

int main() {
  static model m(q({0.5f, 10}), dq({0.5f, 10}));
  const float x[4] = {1.0f, -2.0f, 0.25f, 150.0f};
  for (int i = 0; i < 4; ++i) m.input()[std::size_t(i)] = x[i];
  m.run();
  // round-trip through uint8 with scale 0.5, zero point 10: 1, -2, 0 (0.5 rounds to even),
  // and 150 -> 310 saturates at 255 -> 122.5
  const float expected[4] = {1.0f, -2.0f, 0.0f, 122.5f};
  for (int i = 0; i < 4; ++i)
    if (m.output()[std::size_t(i)] != expected[i]) {
      std::printf("consumer: output %d is %g, expected %g\n", i, double(m.output()[std::size_t(i)]), double(expected[i]));
      return 1;
    }
  std::puts(summary<model>().c_str());
  return 0;
}
