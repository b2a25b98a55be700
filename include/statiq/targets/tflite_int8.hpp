// statiq/targets/tflite_int8.hpp — TFLite / TFLite Micro / CMSIS-NN int8 (Cortex-M class MCUs):
// signed 8-bit activations, symmetric per-channel int8 weights, fixed-point requantization.
#pragma once

#include "statiq/arith/tflite.hpp"
#include "statiq/targets/int8_cpu_rules.hpp"

namespace statiq::targets {

struct tflite_int8 : int8_cpu_rules<true>, target_rules<tflite_int8> {
  static constexpr fixed_string name{"tflite_int8"};
  using profile = arith::tflite;  // double rounding, TFLite's default
  static constexpr bool packs_sub_byte = false;
  static constexpr std::size_t memory_bytes = 0;  // give a board's SRAM with with_memory<>
  // For statiq-codegen: the fields are described in statiq/targets/target_list.hpp.
  static constexpr std::string_view description =
      "TFLite / TFLite Micro / CMSIS-NN int8, double rounding (TFLite's default)";
  static constexpr bool hardware = false;
  static constexpr bool akida_conventions = false;
  static constexpr int default_bits = 8;
};

// CMSIS-NN / TFLM built with single rounding.
struct tflite_int8_single_rounding : int8_cpu_rules<true>, target_rules<tflite_int8_single_rounding> {
  static constexpr fixed_string name{"tflite_int8_single_rounding"};
  using profile = arith::tflite_single_rounding;
  static constexpr bool packs_sub_byte = false;
  static constexpr std::size_t memory_bytes = 0;
  // For statiq-codegen: the fields are described in statiq/targets/target_list.hpp.
  static constexpr std::string_view description =
      "TFLite Micro / CMSIS-NN int8 built with TFLITE_SINGLE_ROUNDING";
  static constexpr bool hardware = false;
  static constexpr bool akida_conventions = false;
  static constexpr int default_bits = 8;
};

}  // namespace statiq::targets
