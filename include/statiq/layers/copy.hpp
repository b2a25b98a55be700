// statiq/layers/copy.hpp — Copy: a layer that only moves values, y[i] = x[index[i]] (or the fill
// code where index[i] < 0): ONNX Resize in "nearest" mode, whose output pixels are input pixels, and
// ONNX Pad (constant, edge, reflect; negative pads crop), whose fill is its constant quantized as
// the tensor is (onnxruntime runs a QDQ Pad as DequantizeLinear -> Pad -> QuantizeLinear with one
// quantization, so its padded values are that code). The index table (NHWC offsets) is computed by
// statiq-codegen from the ONNX attributes; no arithmetic, so it is exact in every target's profile
// and the output keeps the input's quantization.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "statiq/kernels/trace.hpp"
#include "statiq/layers/convolution.hpp"  // Shape, Bits, qint and the shared diagnostics

namespace statiq {

struct CopyAttributes {
  Shape input{};
  Shape output{};
  Bits bits{};  // .in == .out: the values are copied; .w unused
  bool signed_input = false;
  bool signed_output = false;  // == signed_input
  constexpr bool operator==(const CopyAttributes&) const = default;
};

namespace diag {
STATIQ_DIAGNOSTIC(copy_changes_the_type, "a Copy layer moves values: its output type must be its input type",
                  fixed_string Layer, Bits bits, bool signed_input, bool signed_output);
}  // namespace diag

// Copy with run-time attributes: a gather through the index table, no vector form (the index table
// is arbitrary; the copies are small next to the convolutions around them).
template <class X>
void compute(const CopyAttributes& a, const X* x, const std::int32_t* index, X fill, X* y) {
  STATIQ_KERNEL_RAN("reference::copy");
  for (int i = 0; i < a.output.size(); ++i) y[i] = index[i] < 0 ? fill : x[index[i]];
}

template <fixed_string Name, CopyAttributes A, class Target>
class Copy {
 public:
  using target = Target;
  using profile = typename Target::profile;
  static constexpr LayerKind kind = LayerKind::copy;
  static constexpr std::string_view name = Name.view();
  static constexpr auto fixed_name = Name;
  static constexpr CopyAttributes attributes = A;

 private:
  static constexpr auto check() {
    constexpr bool positive = A.input.h > 0 && A.input.w > 0 && A.input.c > 0 && A.output.h > 0 && A.output.w > 0 &&
                              A.output.c > 0;
    constexpr bool same_type = A.bits.in == A.bits.out && A.signed_input == A.signed_output && A.bits.in >= 1 &&
                               A.bits.in <= 8;
    using namespace diag;
    constexpr auto common = report_first<
        rule<positive, shape_has_a_non_positive_dimension<Name, A.output, A.output.c, Kernel{}, Stride{}>>,
        rule<same_type, copy_changes_the_type<Name, A.bits, A.signed_input, A.signed_output>>>();
    if constexpr (!common) return common;
    else return Target::template check<Name, LayerKind::copy, A>();
  }

 public:
  static constexpr auto verdict = check();
  static constexpr bool valid = verdict.ok;
  STATIQ_REPORT(verdict);
  static constexpr Shape input_shape = valid ? A.input : Shape{1, 1, 1};
  static constexpr Shape output_shape = valid ? A.output : Shape{1, 1, 1};
  static constexpr Pattern pattern = Pattern{{"Resize"}, 1};
  static constexpr std::size_t params = std::size_t(valid ? A.output.size() : 1);  // the index table
  static constexpr std::int64_t macs = 0;
  static constexpr std::size_t scratch_words = 0;

  using input_type = qint<valid ? A.bits.in : 8, A.signed_input>;
  using output_type = input_type;
  using input_element = typename input_type::storage;
  using output_element = input_element;
  static constexpr std::string_view kernel_name = "reference::copy";

  struct parameters {
    const std::int32_t* index = nullptr;  // output.size() NHWC offsets into the input, -1: the fill
    input_element fill = 0;               // a Pad's constant as a code (Resize: unused)
  };

  constexpr Copy() = default;
  constexpr explicit Copy(const parameters& p) : p_(p) {}
  constexpr const parameters& data() const { return p_; }

  void operator()(const input_element* x, output_element* y, std::int32_t*) const {
    compute(A, x, p_.index, p_.fill, y);
  }

 private:
  parameters p_{};
};

}  // namespace statiq
