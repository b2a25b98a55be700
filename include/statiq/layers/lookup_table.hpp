// statiq/layers/lookup_table.hpp — LookupTable: an elementwise function of an 8-bit tensor
// (LeakyRelu, Sigmoid, Tanh, HardSigmoid, HardSwish) as a 256-entry table of output codes, one per
// input byte. statiq-codegen builds the table as the runtime it matches does (cpu_int8: onnxruntime's
// QlinearBuildLookupTable, Q(f(DQ(x))) with its float f), so the engine only looks it up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "statiq/core/bits.hpp"
#include "statiq/core/diagnostics.hpp"
#include "statiq/core/fixed_string.hpp"
#include "statiq/core/qint.hpp"
#include "statiq/core/shape.hpp"
#include "statiq/kernels/arm/neon/lookup_table.hpp"
#include "statiq/kernels/reference/lookup_table.hpp"
#include "statiq/kernels/trace.hpp"
#include "statiq/kernels/x86/avx2/lookup_table.hpp"
#include "statiq/kernels/x86/lookup_table.hpp"
#include "statiq/layers/convolution.hpp"  // Shape, Bits, qint and the shared diagnostics

namespace statiq {

// The function a table stands for, by its ONNX operator (alpha, beta: the operator's attributes;
// for the elementwise ops with a constant, alpha is the constant c).
enum class LookupFunction {
  leaky_relu,
  sigmoid,
  tanh,
  hard_sigmoid,
  hard_swish,
  max_constant,   // Max(x, c)
  min_constant,   // Min(x, c)
  add_constant,   // x + c
  sub_constant,   // x - c
  constant_sub,   // c - x
  mul_constant,   // x * c
  div_constant,   // x / c
  clip,           // Clip(x, alpha, beta); Relu is Clip(x, 0, +inf)
};

// Max, Min, Add, Sub, Mul, Div with a constant (alpha).
constexpr bool with_constant(LookupFunction f) {
  return f >= LookupFunction::max_constant && f <= LookupFunction::div_constant;
}

constexpr std::string_view lookup_function_op(LookupFunction f) {
  switch (f) {
    case LookupFunction::leaky_relu: return "LeakyRelu";
    case LookupFunction::sigmoid: return "Sigmoid";
    case LookupFunction::tanh: return "Tanh";
    case LookupFunction::hard_sigmoid: return "HardSigmoid";
    case LookupFunction::hard_swish: return "HardSwish";
    case LookupFunction::max_constant: return "Max";
    case LookupFunction::min_constant: return "Min";
    case LookupFunction::add_constant: return "Add";
    case LookupFunction::sub_constant:
    case LookupFunction::constant_sub: return "Sub";
    case LookupFunction::mul_constant: return "Mul";
    case LookupFunction::div_constant: return "Div";
    case LookupFunction::clip: return "Clip";
  }
  return "?";
}

struct LookupTableAttributes {
  Shape shape{};
  LookupFunction function = LookupFunction::leaky_relu;
  float alpha = 0.0f;  // LeakyRelu's slope, HardSigmoid's alpha, the constant c (the table holds the numbers)
  float beta = 0.0f;   // HardSigmoid's beta
  Bits bits{};         // .in and .out: 8 (a table of 256 entries); .w unused
  bool signed_input = false;
  bool signed_output = false;
  constexpr bool operator==(const LookupTableAttributes&) const = default;
};

namespace diag {
STATIQ_DIAGNOSTIC(lookup_table_needs_8_bit_tensors,
                  "a lookup table has one entry per input byte: its input and output are 8-bit (bits.in = bits.out = 8)",
                  fixed_string Layer, Bits bits);
}  // namespace diag

// The lookup kernel of this build for byte inputs and outputs (every LookupTable's): AVX-512 VBMI's
// vpermi2b, AVX2's vpshufb per 16-entry row, NEON's TBL/TBX; the scalar loop otherwise (AVX-512
// without VBMI has no byte permute over 64 entries, and the row method would waste its width).
constexpr std::string_view lookup_table_kernel_name() {
#if defined(STATIQ_KERNELS_AVX512_VBMI)
  return "x86::lookup_table_vbmi (avx512 vbmi)";
#elif defined(STATIQ_KERNELS_AVX2)
  return "x86::avx2::lookup_table (avx2)";
#elif defined(STATIQ_KERNELS_ARM_NEON)
  return "arm::neon::lookup_table (neon)";
#else
  return "reference::lookup_table";
#endif
}

// LookupTable with run-time attributes: y[i] = table[byte of x[i]].
template <class X, class T, class Y>
void compute(const LookupTableAttributes& a, const X* x, const T* table, Y* y) {
  const int n = a.shape.size();
  if constexpr (sizeof(X) == 1 && sizeof(T) == 1 && sizeof(Y) == 1) {
#if defined(STATIQ_KERNELS_AVX512_VBMI)
    STATIQ_KERNEL_RAN("x86::lookup_table_vbmi (avx512 vbmi)");
    return kernels::x86::lookup_table_vbmi(x, n, reinterpret_cast<const Y*>(table), y);
#elif defined(STATIQ_KERNELS_AVX2)
    STATIQ_KERNEL_RAN("x86::avx2::lookup_table (avx2)");
    return kernels::x86::avx2::lookup_table(x, n, reinterpret_cast<const Y*>(table), y);
#elif defined(STATIQ_KERNELS_ARM_NEON)
    STATIQ_KERNEL_RAN("arm::neon::lookup_table (neon)");
    return kernels::arm::neon::lookup_table(x, n, reinterpret_cast<const Y*>(table), y);
#endif
  }
  STATIQ_KERNEL_RAN("reference::lookup_table");
  kernels::reference::lookup_table(x, n, table, y);
}

template <fixed_string Name, LookupTableAttributes A, class Target>
class LookupTable {
 public:
  using target = Target;
  using profile = typename Target::profile;
  static constexpr LayerKind kind = LayerKind::lookup_table;
  static constexpr std::string_view name = Name.view();
  static constexpr auto fixed_name = Name;
  static constexpr LookupTableAttributes attributes = A;

 private:
  static constexpr auto check() {
    constexpr bool positive = A.shape.h > 0 && A.shape.w > 0 && A.shape.c > 0;
    constexpr bool eight_bit = A.bits.in == 8 && A.bits.out == 8;
    using namespace diag;
    constexpr auto common = report_first<
        rule<positive, shape_has_a_non_positive_dimension<Name, A.shape, A.shape.c, Kernel{}, Stride{}>>,
        rule<eight_bit, lookup_table_needs_8_bit_tensors<Name, A.bits>>>();
    if constexpr (!common) return common;
    else return Target::template check<Name, LayerKind::lookup_table, A>();
  }

 public:
  static constexpr auto verdict = check();
  static constexpr bool valid = verdict.ok;
  STATIQ_REPORT(verdict);
  static constexpr Shape input_shape = valid ? A.shape : Shape{1, 1, 1};
  static constexpr Shape output_shape = input_shape;
  static constexpr Pattern pattern = Pattern{{lookup_function_op(A.function)}, 1};
  static constexpr std::size_t params = 256;
  static constexpr std::int64_t macs = 0;
  static constexpr std::size_t scratch_words = 0;

  using input_type = qint<8, A.signed_input>;
  using output_type = qint<8, A.signed_output>;
  using input_element = typename input_type::storage;
  using output_element = typename output_type::storage;
  static constexpr std::string_view kernel_name = lookup_table_kernel_name();  // every LookupTable is 8-bit

  struct parameters {
    const output_element* table = nullptr;  // 256 output codes, indexed by the input byte
  };

  constexpr LookupTable() = default;
  constexpr explicit LookupTable(const parameters& p) : p_(p) {}
  constexpr const parameters& data() const { return p_; }

  void operator()(const input_element* x, output_element* y, std::int32_t*) const { compute(A, x, p_.table, y); }

 private:
  parameters p_{};
};

}  // namespace statiq
