// codegen/exec/parallel_for.hpp — parallel_for(n, f): f(0) ... f(n - 1) on the machine's cores, for
// the per-sample loops of the generator (float runs, integer simulations) that share nothing.
// Results stay bit-identical to a sequential loop as long as f(i) writes only slot i and the caller
// reduces the slots in index order afterwards.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace statiq::codegen::exec {

// Runs f(i) for every i in [0, n), on up to `threads` threads (0: the environment variable
// STATIQ_THREADS if set to a positive number, else std::thread::hardware_concurrency()).
// When some f(i) throw, the exception of the lowest such i is rethrown here (the one a sequential
// loop would have met first), after every thread has stopped; indices not yet started are skipped.
template <class F>
void parallel_for(std::size_t n, F&& f, unsigned threads = 0) {
  if (threads == 0)
    if (const char* env = std::getenv("STATIQ_THREADS")) threads = unsigned(std::strtoul(env, nullptr, 10));
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t workers = std::min<std::size_t>(threads, n);
  if (workers <= 1) {
    for (std::size_t i = 0; i < n; ++i) f(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::size_t error_index = n;
  std::mutex error_mutex;
  auto work = [&] {
    for (std::size_t i; !failed && (i = next++) < n;) {
      try {
        f(i);
      } catch (...) {
        const std::lock_guard lock(error_mutex);
        if (i < error_index) error = std::current_exception(), error_index = i;
        failed = true;
      }
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace statiq::codegen::exec
