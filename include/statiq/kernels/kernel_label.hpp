// statiq/kernels/kernel_label.hpp — a layer's kernel name made of parts at compile time (a pooling
// layer: the sum kernel, then the requantization that follows it), kept in the layer type so that
// kernel_name can be a std::string_view like the other layers'.
#pragma once

#include <cstddef>
#include <string_view>

namespace statiq::kernels {

struct KernelLabel {
  char text[160]{};
  std::size_t size = 0;

  constexpr KernelLabel(std::string_view first, std::string_view second = {}) {
    for (const char c : first) text[size < 159 ? size++ : size] = c;
    for (const char c : second) text[size < 159 ? size++ : size] = c;
  }
  constexpr std::string_view view() const { return {text, size}; }
};

}  // namespace statiq::kernels
