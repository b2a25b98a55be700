// statiq/targets/cpu_int8.hpp — a plain CPU computing what ONNX Runtime computes for QDQ /
// QOperator models (the qlinear profile): uint8 or int8, per-tensor or per-channel weights.
#pragma once

#include "statiq/arith/qlinear.hpp"
#include "statiq/targets/int8_cpu_rules.hpp"

namespace statiq::targets {

struct cpu_int8 : int8_cpu_rules<false>, target_rules<cpu_int8> {
  static constexpr fixed_string name{"cpu_int8"};
  using profile = arith::qlinear;
  static constexpr bool packs_sub_byte = false;
  static constexpr std::size_t memory_bytes = 0;
  static constexpr bool dynamic_quantization = true;  // statiq/layers/dynamic.hpp
  // For statiq-codegen: the fields are described in statiq/targets/target_list.hpp.
  static constexpr std::string_view description =
      "a CPU computing what ONNX Runtime computes (QDQ models): uint8 or int8, per-channel weights";
  static constexpr bool hardware = false;
  static constexpr bool akida_conventions = false;
  static constexpr int default_bits = 8;
};

}  // namespace statiq::targets
