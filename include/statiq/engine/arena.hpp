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
  // In place: the buffer whose space this one takes over (its step's input, read for the last time
  // by the step that writes this one), or -1. Shared buffers are planned as one.
  int shares = -1;
};

// An elementwise step may write its output over an input of the same size that no later step
// reads: element i of the output depends on element i of the inputs only, and every kernel of such
// a layer reads a block of its inputs before it writes the same block of its output. Marks `output`
// as sharing `input` when that holds; the graph input (buffer 0) is never overwritten, so a caller
// can run the engine again on the same input.
template <class Uses>
constexpr bool share_in_place(Uses& uses, std::size_t output, std::size_t input) {
  if (input == 0 || uses[output].shares >= 0) return false;
  const BufferUse& in = uses[input];
  const BufferUse& out = uses[output];
  if (in.bytes == 0 || in.bytes != out.bytes || in.last != out.first) return false;
  uses[output].shares = static_cast<int>(input);
  return true;
}

inline constexpr std::size_t arena_alignment = 16;

constexpr std::size_t align_up(std::size_t n, std::size_t a = arena_alignment) { return (n + a - 1) / a * a; }

template <std::size_t N>
struct ArenaPlan {
  std::array<std::size_t, N> offsets{};
  std::size_t bytes = 0;
  bool in_place = false;  // the shared buffers (BufferUse::shares) share their space in this plan
};

namespace detail {
// The buffer at the start of b's chain of shares: the one that is placed.
template <class Uses>
constexpr std::size_t share_root(const Uses& uses, std::size_t b) {
  while (uses[b].shares >= 0) b = static_cast<std::size_t>(uses[b].shares);
  return b;
}

// Every chain of shared buffers as one buffer (the largest size, the union of the lifetimes) at its
// root; the other members of a chain become empty.
template <class Uses>
constexpr Uses merge_shares(const Uses& uses) {
  Uses merged = uses;
  for (std::size_t b = 0; b < uses.size(); ++b) {
    if (uses[b].shares < 0) continue;
    BufferUse& root = merged[share_root(uses, b)];
    if (uses[b].bytes > root.bytes) root.bytes = uses[b].bytes;
    if (uses[b].first < root.first) root.first = uses[b].first;
    if (uses[b].last > root.last) root.last = uses[b].last;
    merged[b].bytes = 0;
  }
  return merged;
}
}  // namespace detail

// Greedy by size (largest first), each buffer at the lowest aligned offset that does not overlap a
// placed buffer whose lifetime overlaps its own: the planner of TFLite Micro's spirit, closed form.
namespace detail {
template <std::size_t N>
constexpr ArenaPlan<N> place_buffers(const std::array<BufferUse, N>& requested) {
  const std::array<BufferUse, N> uses = detail::merge_shares(requested);
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
  std::array<std::size_t, N> begins{}, ends{};  // the placed buffers live with b, by offset
  for (std::size_t k = 0; k < N; ++k) {
    const std::size_t b = order[k];
    const std::size_t size = align_up(uses[b].bytes);
    std::size_t conflicts = 0;
    for (std::size_t o = 0; o < N && size > 0; ++o) {
      if (!placed[o] || uses[o].bytes == 0) continue;
      if (uses[o].first > uses[b].last || uses[b].first > uses[o].last) continue;  // never live together
      std::size_t j = conflicts++;  // insertion by offset: few buffers live together
      for (; j > 0 && begins[j - 1] > plan.offsets[o]; --j) {
        begins[j] = begins[j - 1];
        ends[j] = ends[j - 1];
      }
      begins[j] = plan.offsets[o];
      ends[j] = plan.offsets[o] + align_up(uses[o].bytes);
    }
    // The lowest offset whose [offset, offset + size) meets none of them: the first gap that fits.
    std::size_t offset = 0;
    for (std::size_t j = 0; j < conflicts; ++j) {
      if (offset + size <= begins[j]) break;
      if (ends[j] > offset) offset = ends[j];
    }
    plan.offsets[b] = offset;
    placed[b] = true;
    if (offset + size > plan.bytes) plan.bytes = offset + size;
  }
  for (std::size_t b = 0; b < N; ++b)
    if (requested[b].shares >= 0) {
      plan.offsets[b] = plan.offsets[detail::share_root(requested, b)];
      plan.in_place = true;
    }
  return plan;
}
}  // namespace detail

// The greedy placement with the requested in-place shares, unless placing every buffer on its own
// comes out smaller (a merged buffer lives longer and can leave a gap the greedy order cannot fill):
// in place only where it saves.
template <std::size_t N>
constexpr ArenaPlan<N> plan_arena(const std::array<BufferUse, N>& requested) {
  const ArenaPlan<N> shared = detail::place_buffers(requested);
  if (!shared.in_place) return shared;
  std::array<BufferUse, N> separate = requested;
  for (BufferUse& b : separate) b.shares = -1;
  const ArenaPlan<N> apart = detail::place_buffers(separate);
  return apart.bytes < shared.bytes ? apart : shared;
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
// Shared buffers count once, as the plan places them.
template <class Uses>
constexpr ArenaBound arena_lower_bound(const Uses& requested) {
  const Uses uses = detail::merge_shares(requested);
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
