// statiq/core/fixed_string.hpp — a string usable as a template argument.
// Layer names (the ONNX node names) travel in the type so that diagnostics name the layer.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace statiq {

template <std::size_t N>
struct fixed_string {
  char data[N]{};

  constexpr fixed_string(const char (&s)[N]) { std::copy_n(s, N, data); }  // NOLINT: implicit by design

  constexpr std::string_view view() const { return {data, N - 1}; }
  constexpr operator std::string_view() const { return view(); }  // NOLINT
  static constexpr std::size_t size() { return N - 1; }
};

template <std::size_t N, std::size_t M>
constexpr bool operator==(const fixed_string<N>& a, const fixed_string<M>& b) {
  return a.view() == b.view();
}

}  // namespace statiq
