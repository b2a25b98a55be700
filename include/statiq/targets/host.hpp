// statiq/targets/host.hpp — host<T>: a layer the target T cannot execute, run on the host CPU in
// T's arithmetic (still integer, still bit-exact), like Akida's software sequences.
// with_memory<T, Bytes>: T with an arena limit (an MCU's SRAM, a scratchpad).
#pragma once

#include <cstddef>

#include "statiq/core/fixed_string.hpp"
#include "statiq/targets/rules.hpp"

namespace statiq::targets {

template <class T>
struct host : target_rules<host<T>> {
  static constexpr fixed_string name{"host"};
  using device = T;  // the target the rest of the model runs on
  using profile = typename T::profile;
  static constexpr bool packs_sub_byte = T::packs_sub_byte;
  static constexpr bool host_layer = true;
  static constexpr std::size_t memory_bytes = 0;

  // The host computes any layer the profile can express.
  template <class Attributes>
  static constexpr Violation rules(LayerKind, const Attributes&) { return no_violation; }
};

template <class T, std::size_t Bytes>
struct with_memory : T {
  static constexpr std::size_t memory_bytes = Bytes;
};

template <class T>
inline constexpr bool is_host_target = requires { requires T::host_layer; };

}  // namespace statiq::targets
