// Inference allocates nothing on the heap: every operator new is counted while the engine runs.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

#include "model_fixture.hpp"

namespace {
std::atomic<long> allocations{0};
}

void* operator new(std::size_t n) {
  ++allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// Every other form too, so that each allocation this program makes pairs malloc with free: with
// only the one above replaced, AddressSanitizer's own nothrow new (Catch2 uses it) met this free
// (alloc-dealloc-mismatch), and a nothrow or array new would escape the count.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  ++allocations;
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

TEST_CASE("running the engine performs no heap allocation") {
  const fixture::data d;
  static fixture::model m = d.make();
  for (auto& v : m.input()) v = 0.3f;
  const long before = allocations.load();
  for (int i = 0; i < 10; ++i) m.run();
  const long after = allocations.load();
  CHECK(after - before == 0);
  // The counter works: a vector allocates.
  { std::vector<int> v(10); REQUIRE(allocations.load() > after); }
}
