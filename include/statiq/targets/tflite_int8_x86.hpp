// statiq/targets/tflite_int8_x86.hpp — TFLite's builtin int8 kernels on x86-64 (a CPU with AVX), the
// arithmetic a model gets from the TFLite interpreter on a PC: tflite_int8 but for ruy's GEMM
// output stage in CONV_2D / FULLY_CONNECTED and the optimized float QUANTIZE (arith::tflite_x86).
#pragma once

#include "statiq/arith/tflite.hpp"
#include "statiq/targets/int8_cpu_rules.hpp"

namespace statiq::targets {

// Its own target, not an option of tflite_int8: the same .tflite runs with tflite_int8's integers in
// TFLite Micro and CMSIS-NN (and TFLite's reference kernels) and with these in TFLite on x86-64, so
// which one an engine must equal depends on where the model is checked, not on the model.
struct tflite_int8_x86 : int8_cpu_rules<true>, target_rules<tflite_int8_x86> {
  static constexpr fixed_string name{"tflite_int8_x86"};
  using profile = arith::tflite_x86;
  static constexpr bool packs_sub_byte = false;
  static constexpr std::size_t memory_bytes = 0;
  // For statiq-codegen: the fields are described in statiq/targets/target_list.hpp.
  static constexpr std::string_view description =
      "TFLite's builtin int8 kernels on x86-64 with AVX (CONV_2D through ruy; checked: TFLite 2.9)";
  static constexpr bool hardware = false;
  static constexpr bool akida_conventions = false;
  static constexpr int default_bits = 8;
};

}  // namespace statiq::targets
