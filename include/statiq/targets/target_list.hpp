// statiq/targets/target_list.hpp — every target of the library in one list, and a loop over it:
// statiq-codegen's --target choices, its dispatch to a profile and its --help all read this list.
// Adding a target: its header in statiq/targets/ (with the members below), and one entry here.
#pragma once

#include <concepts>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "statiq/targets/akida_v1.hpp"
#include "statiq/targets/akida_v2.hpp"
#include "statiq/targets/cpu_int8.hpp"
#include "statiq/targets/gemmini.hpp"
#include "statiq/targets/tflite_int8.hpp"
#include "statiq/targets/tflite_int8_x86.hpp"

namespace statiq::targets {

template <class... T>
struct type_list {
  static constexpr std::size_t size = sizeof...(T);
};

// Besides its rules (target_rules), name, profile and packs_sub_byte, a listed target states:
//   description         one line for --help and the docs;
//   hardware            an accelerator: nodes it cannot run stop the generator unless the user
//                       says where they go (--unmapped host / float);
//   akida_conventions   Akida's layers: the first convolution is an InputConv2D reading uint8
//                       pixels (8-bit weights), activations are unsigned after a ReLU and signed
//                       otherwise;
//   signed_activations  every activation is a signed integer (zero point 0 or int8);
//   default_bits        weights and activations unless configured.
// The order is the order of --help and of the error that lists the choices.
using target_list =
    type_list<cpu_int8, akida_v2, akida_v1, gemmini, tflite_int8, tflite_int8_single_rounding, tflite_int8_x86>;

// Calls f(std::type_identity<T>{}) for every target T of the list, in order.
template <class F>
constexpr void for_each_target(F&& f) {
  [&]<class... T>(type_list<T...>) { (f(std::type_identity<T>{}), ...); }(target_list{});
}

namespace detail {
template <class T>
constexpr bool states_what_the_generator_needs =
    requires {
      { T::description } -> std::convertible_to<std::string_view>;
      { T::hardware } -> std::convertible_to<bool>;
      { T::akida_conventions } -> std::convertible_to<bool>;
      { T::signed_activations } -> std::convertible_to<bool>;
      { T::default_bits } -> std::convertible_to<int>;
      typename T::profile;
    };

template <class... T>
constexpr bool names_are_unique(type_list<T...>) {
  const std::string_view names[] = {T::name.view()...};
  for (std::size_t i = 0; i < sizeof...(T); ++i)
    for (std::size_t j = i + 1; j < sizeof...(T); ++j)
      if (names[i] == names[j]) return false;
  return true;
}
}  // namespace detail

static_assert([]<class... T>(type_list<T...>) { return (detail::states_what_the_generator_needs<T> && ...); }(
                  target_list{}),
              "statiq: every target of target_list states description, hardware, akida_conventions, "
              "signed_activations, default_bits and its profile");
static_assert(detail::names_are_unique(target_list{}), "statiq: two targets of target_list share a name");

}  // namespace statiq::targets
