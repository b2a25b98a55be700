// bench/e2e/engine_timing.cpp — times one generated engine end to end: float input -> float output,
// the golden vectors (the same rows onnxruntime is timed on) fed in turn, median per inference.
// Built by run.sh with -DSTATIQ_E2E_HEADER="<name>.hpp" -DSTATIQ_E2E_NAMESPACE=<name>, linked with <name>_data.cpp.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include STATIQ_E2E_HEADER

namespace net = STATIQ_E2E_NAMESPACE;

namespace {

// The result is read after every run so that the work cannot be dropped as unused.
volatile float sink = 0;

void infer(net::model& engine, std::size_t row) {
  const auto input = engine.input();
  for (std::size_t i = 0; i < input.size(); ++i)
    input[i] = static_cast<net::model::input_element>(net::golden_inputs[row][i]);
  engine.run();
  const auto y = engine.output();
  sink = sink + static_cast<float>(y[0]);
}

}  // namespace

// engine_timing RUNS BUDGET_SECONDS WARMUP: WARMUP untimed runs (at most about a second), then RUNS timed runs (row i % golden_count),
// stopping early once BUDGET_SECONDS of timed runs have passed (at least 3 runs); prints the median.
// engine_timing --kernels: prints the instruction set whose kernels this build runs.
int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--kernels") {
    std::printf("%s\n", statiq::kernels::isa_name(statiq::kernels::isa));
    return 0;
  }
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s RUNS BUDGET_SECONDS WARMUP\n", argv[0]);
    return 2;
  }
  const long runs = std::atol(argv[1]);
  const double budget = std::atof(argv[2]);
  const long warmup = std::atol(argv[3]);
  // Correctness first: the engine timed is the one that reproduces the integer simulation.
  if (!net::self_test(stderr)) {
    std::fprintf(stderr, "engine_timing: the engine does not reproduce its golden vectors\n");
    return 1;
  }
  static net::model engine = net::make_model();  // the arena is inside: not on the stack
  using clock = std::chrono::steady_clock;
  // Warm-up: WARMUP runs, cut short after a second (the large models take that per run).
  const auto warm = clock::now();
  for (long i = 0; i < warmup; ++i) {
    infer(engine, std::size_t(i) % net::golden_count);
    if (std::chrono::duration<double>(clock::now() - warm).count() > 1.0) break;
  }
  std::vector<double> us;
  const auto start = clock::now();
  for (long i = 0; i < runs; ++i) {
    const auto t0 = clock::now();
    infer(engine, std::size_t(i) % net::golden_count);
    const auto t1 = clock::now();
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    if (i >= 2 && std::chrono::duration<double>(t1 - start).count() > budget) break;
  }
  std::sort(us.begin(), us.end());
  const std::size_t n = us.size();
  const double median = n % 2 ? us[n / 2] : 0.5 * (us[n / 2 - 1] + us[n / 2]);
  std::printf("runs %zu median_us %.3f min_us %.3f\n", n, median, us.front());
  return 0;
}
