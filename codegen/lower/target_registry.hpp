// codegen/lower/target_registry.hpp — the library's targets as the generator sees them at run time:
// their pattern tables and constexpr rules (the very functions the layer types check), by CLI name.
#pragma once

#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "statiq/targets/akida_v1.hpp"
#include "statiq/targets/akida_v2.hpp"
#include "statiq/targets/cpu_int8.hpp"
#include "statiq/targets/gemmini.hpp"
#include "statiq/targets/tflite_int8.hpp"

namespace statiq::codegen {

struct TargetInfo {
  std::string_view cli_name;  // "akida-v2"
  std::string_view name;      // "akida_v2": the C++ type statiq::targets::<name>
  std::span<const Pattern> patterns;
  Violation (*conv)(LayerKind, const ConvAttributes&);
  Violation (*dense)(LayerKind, const DenseAttributes&);
  Violation (*add)(LayerKind, const AddAttributes&);
  Violation (*concat)(LayerKind, const ConcatAttributes&);
  Violation (*pool)(LayerKind, const PoolAttributes&);
  bool signed_activations;   // every activation signed (tflite, gemmini)
  bool pow2;                 // Akida: power-of-two scales, unsigned after ReLU, an input layer of uint8 pixels
  bool hardware;             // unmapped nodes stop the generator by default
  int default_bits;          // weights and activations unless configured
};

namespace detail {
template <class T>
constexpr TargetInfo target_info(std::string_view cli, bool signed_activations, bool pow2, bool hardware, int bits) {
  return TargetInfo{cli,
                    T::name.view(),
                    std::span<const Pattern>(T::patterns),
                    static_cast<Violation (*)(LayerKind, const ConvAttributes&)>(&T::rules),
                    static_cast<Violation (*)(LayerKind, const DenseAttributes&)>(&T::rules),
                    static_cast<Violation (*)(LayerKind, const AddAttributes&)>(&T::rules),
                    static_cast<Violation (*)(LayerKind, const ConcatAttributes&)>(&T::rules),
                    static_cast<Violation (*)(LayerKind, const PoolAttributes&)>(&T::rules),
                    signed_activations,
                    pow2,
                    hardware,
                    bits};
}
}  // namespace detail

inline const std::vector<TargetInfo>& all_targets() {
  static const std::vector<TargetInfo> targets{
      detail::target_info<targets::cpu_int8>("cpu-int8", false, false, false, 8),
      detail::target_info<targets::akida_v2>("akida-v2", false, true, true, 8),
      detail::target_info<targets::akida_v1>("akida-v1", false, true, true, 4),
      detail::target_info<targets::gemmini>("gemmini", true, false, true, 8),
      detail::target_info<targets::tflite_int8>("tflite-int8", true, false, false, 8),
  };
  return targets;
}

// The target of a CLI name; throws std::invalid_argument listing the known ones.
inline const TargetInfo& find_target(std::string_view cli_name) {
  std::string known;
  for (const TargetInfo& t : all_targets()) {
    if (t.cli_name == cli_name || t.name == cli_name) return t;
    known += (known.empty() ? "" : ", ") + std::string(t.cli_name);
  }
  throw std::invalid_argument("unknown target '" + std::string(cli_name) + "': choose one of " + known);
}

}  // namespace statiq::codegen
