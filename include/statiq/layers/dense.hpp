// statiq/layers/dense.hpp — Dense (ONNX Gemm / MatMul, after Flatten): every output unit sees the
// whole input, flattened in the engine's NHWC order, with an optional fused ReLU.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>

#include "statiq/layers/convolution.hpp"
#include "statiq/kernels/reference/dense.hpp"

namespace statiq {

struct DenseAttributes {
  Shape input{};  // flattened in H, W, C order
  int units = 0;
  Activation activation = no_activation;
  Bits bits{};
  bool signed_input = false;
  bool signed_output = false;
  WeightStats weight_stats{};
  constexpr bool operator==(const DenseAttributes&) const = default;
};

namespace diag {
STATIQ_DIAGNOSTIC(dense_has_no_units_or_inputs, "a Dense layer needs a non-empty input and at least one unit",
                  fixed_string Layer, Shape input, int units);
}  // namespace diag

constexpr Shape output_shape(const DenseAttributes& a) { return Shape{1, 1, a.units}; }
constexpr std::size_t weight_count(const DenseAttributes& a) { return std::size_t(a.input.size()) * std::size_t(a.units); }
// A Dense layer is a 1x1 convolution of a 1x1xN input: the fast kernels and layouts are the convolution's.
constexpr kernels::reference::Conv2DGeometry conv_geometry(const DenseAttributes& a) {
  return {Shape{1, 1, a.input.size()}, Shape{1, 1, a.units}, Kernel{1, 1}, Stride{1, 1}, Pads{}, Dilation{}, 1};
}
constexpr WeightLayout weight_layout(const DenseAttributes& a, bool byte_weights) {
  return kernels::conv_weight_layout(conv_geometry(a), byte_weights);
}
constexpr kernels::ConvKernel dense_kernel(const DenseAttributes& a, const WeightLayout& w) {
  return kernels::conv_kernel(conv_geometry(a), w, a.bits.w);
}
constexpr std::size_t scratch_words(const DenseAttributes& a, const WeightLayout& w) {
  const kernels::ConvKernel k = dense_kernel(a, w);
  return k == kernels::ConvKernel::reference ? std::size_t(a.units)
                                             : kernels::conv_kernel_scratch_words(k, conv_geometry(a), w, a.signed_input);
}

// Dense with run-time attributes (the layer type and statiq-codegen's simulation both call it).
// w is [units][inputs] (logical indices), inputs flattened in NHWC order.
template <class Profile, class X, class W, class Y>
void compute(const DenseAttributes& a, const X* x, const W& w, const LayerData<Profile>& d, Y* y,
             std::int32_t* scratch) {
  if constexpr (detail::FastKernelOperands<X, W, Y>) {
    assert(a.signed_input == std::is_signed_v<X> && "the scratch was sized for the attributes' input type");
    const kernels::ConvKernel k = dense_kernel(a, w.layout);
    if (k != kernels::ConvKernel::reference) {
      const std::int32_t* sums = detail::weight_sums_for(k, d.weight_sums, w, a.units, std::size_t(a.input.size()), scratch);
      detail::run_conv_kernel<detail::stored_weight_bits<W>>(
          k, conv_geometry(a), x, d.input_zero_point, w.layout, w.bytes(), d.weight_zero_point, d.bias, sums, scratch,
          [&](int, int, const std::int32_t* acc, std::size_t ld) { detail::requantize_rows(acc, ld, 1, a.units, d, y, true); });
      return;
    }
  }
  kernels::reference::dense(a.input.size(), a.units, x, d.input_zero_point, w, d.weight_zero_point, d.bias, scratch);
  for (int u = 0; u < a.units; ++u)
    y[u] = static_cast<Y>(arith::requantize_gemm<Profile>(scratch[u], d.channel[u], d.output));
}

template <fixed_string Name, DenseAttributes A, class Target>
class Dense {
 public:
  using target = Target;
  using profile = typename Target::profile;
  static constexpr LayerKind kind = LayerKind::dense;
  static constexpr std::string_view name = Name.view();
  static constexpr auto fixed_name = Name;
  static constexpr DenseAttributes attributes = A;

 private:
  static constexpr auto check() {
    constexpr bool positive = A.units > 0 && A.input.h > 0 && A.input.w > 0 && A.input.c > 0;
    constexpr bool bits_ok = valid_bit_width(A.bits.in) && valid_bit_width(A.bits.w) && valid_bit_width(A.bits.out);
    constexpr std::int64_t bound =
        positive && bits_ok ? accumulator_bound(A.input.size(), A.bits.in, A.signed_input, A.bits.w, A.weight_stats)
                            : 0;
    constexpr int acc_bits = profile::accumulator_bits;
    using namespace diag;
    constexpr auto common = report_first<
        rule<positive, dense_has_no_units_or_inputs<Name, A.input, A.units>>,
        rule<bits_ok, bit_width_not_1_2_4_or_8<Name, A.bits>>,
        rule<bound <= accumulator_limit(acc_bits),
             accumulator_may_overflow<Name, bound, acc_bits, accumulator_limit(acc_bits)>>>();
    if constexpr (!common) return common;
    else return Target::template check<Name, LayerKind::dense, A>();
  }

 public:
  static constexpr auto verdict = check();
  static constexpr bool valid = verdict.ok;
  STATIQ_REPORT(verdict);
  static constexpr Shape input_shape = A.input;
  static constexpr int units = valid ? A.units : 1;
  static constexpr Shape output_shape{1, 1, units};
  static constexpr Pattern pattern = fused_pattern("Gemm", A.activation, no_pool);
  static constexpr std::size_t inputs = valid ? std::size_t(A.input.size()) : 1;
  static constexpr std::size_t weight_count = inputs * std::size_t(units);
  static constexpr std::size_t params = weight_count + std::size_t(units);
  static constexpr std::int64_t macs = std::int64_t(weight_count);

  using input_type = qint<valid ? A.bits.in : 8, A.signed_input>;
  using output_type = qint<valid ? A.bits.out : 8, A.signed_output>;
  using weight_type = qint<valid ? A.bits.w : 8, true>;
  using input_element = typename input_type::storage;
  using output_element = typename output_type::storage;
  // Where each weight is stored (kernels/select.hpp), part of the weights' type.
  static constexpr WeightLayout weight_layout =
      valid ? statiq::weight_layout(A, elements_per_byte<weight_type, Target::packs_sub_byte> == 1) : row_major_layout;
  using weights_view = qview<weight_type, weight_count, Target::packs_sub_byte, weight_layout>;
  using weights_array = qarray<weight_type, weight_count, Target::packs_sub_byte, weight_layout>;
  static constexpr kernels::ConvKernel kernel = valid ? dense_kernel(A, weight_layout) : kernels::ConvKernel::reference;
  static constexpr std::string_view kernel_name = kernels::conv_kernel_name(kernel);
  static constexpr std::size_t scratch_words = valid ? statiq::scratch_words(A, weight_layout) : 1;

  // Weights [units][inputs], inputs in NHWC flattening order.
  using parameters = WeightedParameters<profile, weights_view, std::size_t(units)>;

  constexpr explicit Dense(const parameters& p) : p_(p) {}
  constexpr const parameters& data() const { return p_; }

  void operator()(const input_element* x, output_element* y, std::int32_t* scratch) const {
    compute(A, x, p_.weights, p_.data(), y, scratch);
  }

 private:
  parameters p_;
};

}  // namespace statiq
