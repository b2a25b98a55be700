// codegen/lower/target_registry.hpp — the library's targets (statiq::targets::target_list) as the
// generator sees them at run time: their pattern tables, constexpr rules and facts by name, and a
// visitor that calls generic code with the target's type.
#pragma once

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "statiq/arith/tflite.hpp"
#include "statiq/layers/dynamic.hpp"
#include "statiq/targets/target_list.hpp"

namespace statiq::codegen {

struct TargetInfo {
  std::string cli_name;       // "akida-v2": the C++ name with '-' for '_'
  std::string_view name;      // "akida_v2": the C++ type statiq::targets::<name>
  std::string_view profile;   // "pow2": the arithmetic statiq::arith::<profile>
  std::string_view description;
  std::span<const Pattern> patterns;
  Violation (*conv)(LayerKind, const ConvAttributes&);
  Violation (*dense)(LayerKind, const DenseAttributes&);
  Violation (*add)(LayerKind, const AddAttributes&);
  Violation (*concat)(LayerKind, const ConcatAttributes&);
  Violation (*pool)(LayerKind, const PoolAttributes&);
  Violation (*lookup_table)(LayerKind, const LookupTableAttributes&);
  Violation (*elementwise)(LayerKind, const ElementwiseAttributes&);
  Violation (*copy)(LayerKind, const CopyAttributes&);
  Violation (*connects)(const Connection&);  // the target's rules about how layers connect
  bool signed_activations;   // every activation signed (tflite, gemmini)
  bool akida_conventions;    // an InputConv2D of uint8 pixels, unsigned after a ReLU (target_list.hpp)
  bool hardware;             // unmapped nodes stop the generator by default
  bool packs_sub_byte;       // weights below 8 bits share a byte in the generated data
  bool dynamic_quantization; // has the float-in/float-out layers of statiq/layers/dynamic.hpp (--dynamic)
  int default_bits;          // weights and activations unless configured
  bool tflite_form;          // computes in one of TFLite's arithmetics: its models have a .tflite form (--tflite)
};

namespace detail {
template <class T>
TargetInfo target_info() {
  std::string cli(T::name.view());
  for (char& c : cli)
    if (c == '_') c = '-';
  return TargetInfo{cli,
                    T::name.view(),
                    T::profile::name,
                    T::description,
                    std::span<const Pattern>(T::patterns),
                    static_cast<Violation (*)(LayerKind, const ConvAttributes&)>(&T::rules),
                    static_cast<Violation (*)(LayerKind, const DenseAttributes&)>(&T::rules),
                    static_cast<Violation (*)(LayerKind, const AddAttributes&)>(&T::rules),
                    static_cast<Violation (*)(LayerKind, const ConcatAttributes&)>(&T::rules),
                    static_cast<Violation (*)(LayerKind, const PoolAttributes&)>(&T::rules),
                    static_cast<Violation (*)(LayerKind, const LookupTableAttributes&)>(&T::rules),
                    static_cast<Violation (*)(LayerKind, const ElementwiseAttributes&)>(&T::rules),
                    static_cast<Violation (*)(LayerKind, const CopyAttributes&)>(&T::rules),
                    &T::connects,
                    T::signed_activations,
                    T::akida_conventions,
                    T::hardware,
                    T::packs_sub_byte,
                    DynamicQuantizationTarget<T>,
                    T::default_bits,
                    arith::is_tflite_profile<typename T::profile>};
}
}  // namespace detail

// Every target of statiq::targets::target_list, in its order.
inline const std::vector<TargetInfo>& all_targets() {
  static const std::vector<TargetInfo> targets = [] {
    std::vector<TargetInfo> v;
    targets::for_each_target([&]<class T>(std::type_identity<T>) { v.push_back(detail::target_info<T>()); });
    return v;
  }();
  return targets;
}

// "cpu-int8, akida-v2, ..." (the CLI's spelling) or "cpu_int8, akida_v2, ..." (the C++ names).
enum class TargetSpelling { cli, cpp };
inline std::string target_names(TargetSpelling spelling) {
  std::string s;
  for (const TargetInfo& t : all_targets())
    s += (s.empty() ? "" : ", ") + (spelling == TargetSpelling::cli ? t.cli_name : std::string(t.name));
  return s;
}

// "tflite-int8, tflite-int8-single-rounding, ...": the targets whose models have a .tflite form.
inline std::string tflite_target_names() {
  std::string s;
  for (const TargetInfo& t : all_targets())
    if (t.tflite_form) s += (s.empty() ? "" : ", ") + t.cli_name;
  return s;
}

// "Targets (--target):" and one line per target, its CLI name and description, for --help.
inline std::string targets_help() {
  std::string s = "Targets (--target):\n";
  for (const TargetInfo& t : all_targets()) {
    s += "  " + t.cli_name;
    s += std::string(t.cli_name.size() < 30 ? 30 - t.cli_name.size() : 1, ' ');
    s += std::string(t.description) + "\n";
  }
  return s;
}

// The target of a name in either spelling, or nullptr.
inline const TargetInfo* lookup_target(std::string_view name) {
  for (const TargetInfo& t : all_targets())
    if (t.cli_name == name || t.name == name) return &t;
  return nullptr;
}

// The target of a name in either spelling; throws std::invalid_argument listing the known ones.
inline const TargetInfo& find_target(std::string_view name) {
  if (const TargetInfo* t = lookup_target(name)) return *t;
  throw std::invalid_argument("unknown target '" + std::string(name) + "': choose one of " +
                              target_names(TargetSpelling::cli));
}

// Calls f(std::type_identity<T>{}) with the target type T of `name` (either spelling) and returns
// its result: one generic function in place of a chain of ifs over the names. Throws as find_target.
template <class F>
decltype(auto) visit_target(std::string_view name, F&& f) {
  const TargetInfo& wanted = find_target(name);
  const auto index = static_cast<std::size_t>(&wanted - all_targets().data());
  return [&]<class First, class... Rest>(targets::type_list<First, Rest...>) -> decltype(auto) {
    using Result = decltype(f(std::type_identity<First>{}));
    using Call = Result (*)(F&);
    constexpr Call calls[] = {[](F& g) -> Result { return g(std::type_identity<First>{}); },
                              [](F& g) -> Result { return g(std::type_identity<Rest>{}); }...};
    return calls[index](f);
  }(targets::target_list{});
}

}  // namespace statiq::codegen
