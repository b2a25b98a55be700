// An application of a generated engine: statiq_add_model() generated <model>.hpp/_data.cpp from
// mnist8.onnx at build time; this program checks the golden vectors, prints the model summary and
// classifies real MNIST digits, reporting accuracy and latency.
// Usage: mnist8_engine <digits.npy [N,28,28] uint8> <labels.npy [N]> [min accuracy %]
#include STATIQ_MODEL_HEADER

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "statiq/engine/summary.hpp"  // the generated header includes statiq/runtime.hpp only
#include "statiq/io/npy.hpp"

namespace generated = STATIQ_MODEL_NAMESPACE;

int main(int argc, char** argv) try {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <digits.npy> <labels.npy> [min accuracy %%]\n", argv[0]);
    return 2;
  }
  static generated::model engine = generated::make_model();  // static storage: the arena lives here
  std::fputs(statiq::summary<generated::model>().c_str(), stdout);
  if (!generated::self_test(stdout)) return 1;
  std::printf("golden vectors: %zu, reproduced bit for bit\n", generated::golden_count);

  const auto digits = statiq::io::read_npy(argv[1]).as<std::uint8_t>();
  const auto labels = statiq::io::read_npy(argv[2]).as<std::uint8_t>();
  if (digits.size() != labels.size() * 784) {
    std::fprintf(stderr, "%s: expected [N, 28, 28] digits for %zu labels\n", argv[1], labels.size());
    return 2;
  }
  std::size_t right = 0;
  double seconds = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    // The engine's input is the model's (NHWC, here 28x28x1): pixels as floats 0..255, as mnist-8 takes them.
    std::copy_n(digits.begin() + std::ptrdiff_t(i * 784), 784, engine.input().begin());
    const auto t0 = std::chrono::steady_clock::now();
    engine.run();
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto y = engine.output();
    right += std::size_t(std::max_element(y.begin(), y.end()) - y.begin()) == labels[i];
  }
  const double accuracy = 100.0 * double(right) / double(labels.size());
  std::printf("generated engine (%s): %zu digits, accuracy %.2f%%, latency %.1f us per digit (1 thread)\n",
              std::string(generated::target::name.view()).c_str(), labels.size(), accuracy,
              1e6 * seconds / double(labels.size()));
  if (argc > 3 && accuracy < std::stod(argv[3])) {
    std::fprintf(stderr, "accuracy %.2f%% is below the required %s%%\n", accuracy, argv[3]);
    return 1;
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "mnist8_engine: %s\n", e.what());
  return 1;
}
