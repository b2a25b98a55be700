// statiq/engine/arena.hpp — the static arena plan: every buffer (a tensor from the step that makes
// it to its last reader, a layer's scratch during its step) gets an offset, reusing dead space.
#pragma once

#include <array>
#include <cstddef>

namespace statiq {

struct BufferUse {
  std::size_t bytes = 0;
  int first = 0;  // first step that needs it
  int last = 0;   // last step that needs it (inclusive)
};

inline constexpr std::size_t arena_alignment = 16;

constexpr std::size_t align_up(std::size_t n, std::size_t a = arena_alignment) { return (n + a - 1) / a * a; }

template <std::size_t N>
struct ArenaPlan {
  std::array<std::size_t, N> offsets{};
  std::size_t bytes = 0;
};

// Greedy by size (largest first), each buffer at the lowest aligned offset that does not overlap a
// placed buffer whose lifetime overlaps its own: the planner of TFLite Micro's spirit, closed form.
template <std::size_t N>
constexpr ArenaPlan<N> plan_arena(const std::array<BufferUse, N>& uses) {
  ArenaPlan<N> plan;
  std::array<std::size_t, N> order{};
  for (std::size_t i = 0; i < N; ++i) order[i] = i;
  for (std::size_t i = 0; i < N; ++i)  // insertion sort, descending size (stable)
    for (std::size_t j = i; j > 0 && uses[order[j]].bytes > uses[order[j - 1]].bytes; --j) {
      const std::size_t t = order[j];
      order[j] = order[j - 1];
      order[j - 1] = t;
    }
  std::array<bool, N> placed{};
  for (std::size_t k = 0; k < N; ++k) {
    const std::size_t b = order[k];
    const std::size_t size = align_up(uses[b].bytes);
    std::size_t offset = 0;
    bool moved = true;
    while (moved && size > 0) {  // slide past every conflicting placed buffer until none conflicts
      moved = false;
      for (std::size_t o = 0; o < N; ++o) {
        if (!placed[o] || uses[o].bytes == 0) continue;
        const bool live_together = uses[o].first <= uses[b].last && uses[b].first <= uses[o].last;
        const std::size_t o_begin = plan.offsets[o], o_end = o_begin + align_up(uses[o].bytes);
        if (live_together && offset < o_end && o_begin < offset + size) {
          offset = o_end;
          moved = true;
        }
      }
    }
    plan.offsets[b] = offset;
    placed[b] = true;
    if (offset + size > plan.bytes) plan.bytes = offset + size;
  }
  return plan;
}

// The arena's lower bound: at the step where the most bytes are live together (the tensors made or
// read at that step, and the step's scratch) no plan can use less than their sum, nor less than the
// sum of their aligned sizes when every buffer starts on an arena_alignment boundary. A plan above
// `aligned_bytes` lost the difference to placement (greedy by size, no backtracking: gaps).
struct ArenaBound {
  std::size_t bytes = 0;          // the largest sum of live bytes at one step
  std::size_t aligned_bytes = 0;  // the largest sum of live aligned sizes at one step
  int step = 0;                   // the step where `bytes` is reached (the first such)
};

// Uses: any range of BufferUse (std::array for the engine, std::vector for the generator).
template <class Uses>
constexpr ArenaBound arena_lower_bound(const Uses& uses) {
  ArenaBound bound;
  int last_step = 0;
  for (const BufferUse& b : uses)
    if (b.last > last_step) last_step = b.last;
  for (int step = 0; step <= last_step; ++step) {
    std::size_t live = 0, aligned = 0;
    for (const BufferUse& b : uses)
      if (b.bytes > 0 && b.first <= step && step <= b.last) {
        live += b.bytes;
        aligned += align_up(b.bytes);
      }
    if (live > bound.bytes) {
      bound.bytes = live;
      bound.step = step;
    }
    if (aligned > bound.aligned_bytes) bound.aligned_bytes = aligned;
  }
  return bound;
}

}  // namespace statiq
