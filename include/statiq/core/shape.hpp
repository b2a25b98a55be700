// statiq/core/shape.hpp — compile-time tensor geometry: Shape (NHWC, batch 1), Kernel,
// Stride, Dilation. Structural types, so they can be template arguments.
#pragma once

namespace statiq {

// Activation tensor shape, NHWC with an implicit batch of 1 (the layout of the engine).
struct Shape {
  int h = 1;
  int w = 1;
  int c = 1;

  constexpr int size() const { return h * w * c; }
  constexpr bool operator==(const Shape&) const = default;
};

struct Kernel {
  int h = 1;
  int w = 1;
  constexpr int size() const { return h * w; }
  constexpr bool operator==(const Kernel&) const = default;
};

struct Stride {
  int h = 1;
  int w = 1;
  constexpr bool operator==(const Stride&) const = default;
};

struct Dilation {
  int h = 1;
  int w = 1;
  constexpr bool operator==(const Dilation&) const = default;
};

}  // namespace statiq
