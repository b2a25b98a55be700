// statiq/layers/dense.hpp — Dense (ONNX Gemm / MatMul, after Flatten): every output unit sees the
// whole input, flattened in the engine's NHWC order, with an optional fused ReLU.
#pragma once

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
constexpr std::size_t scratch_words(const DenseAttributes& a) { return std::size_t(a.units); }

// Dense with run-time attributes (the layer type and statiq-codegen's simulation both call it).
// w is [units][inputs], inputs flattened in NHWC order.
template <class Profile, class X, class W, class Y>
void compute(const DenseAttributes& a, const X* x, const W& w, const LayerData<Profile>& d, Y* y,
             std::int32_t* scratch) {
  kernels::reference::dense(a.input.size(), a.units, x, d.input_zero_point, w, d.weight_zero_point, d.bias, scratch);
  for (int u = 0; u < a.units; ++u) y[u] = static_cast<Y>(Profile::requantize(scratch[u], d.channel[u], d.output));
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
  static constexpr bool check() {
    constexpr bool positive = A.units > 0 && A.input.h > 0 && A.input.w > 0 && A.input.c > 0;
    constexpr bool bits_ok = valid_bit_width(A.bits.in) && valid_bit_width(A.bits.w) && valid_bit_width(A.bits.out);
    constexpr std::int64_t bound =
        positive && bits_ok ? accumulator_bound(A.input.size(), A.bits.in, A.signed_input, A.bits.w, A.weight_stats)
                            : 0;
    constexpr int acc_bits = profile::accumulator_bits;
    using namespace diag;
    constexpr bool common = report_first<
        rule<positive, dense_has_no_units_or_inputs<Name, A.input, A.units>>,
        rule<bits_ok, bit_width_not_1_2_4_or_8<Name, A.bits>>,
        rule<bound <= accumulator_limit(acc_bits),
             accumulator_may_overflow<Name, bound, acc_bits, accumulator_limit(acc_bits)>>>();
    if constexpr (!common) return false;
    else return Target::template check<Name, LayerKind::dense, A>();
  }

 public:
  static constexpr bool valid = check();
  static constexpr Shape input_shape = A.input;
  static constexpr int units = valid ? A.units : 1;
  static constexpr Shape output_shape{1, 1, units};
  static constexpr Pattern pattern = fused_pattern("Gemm", A.activation, no_pool);
  static constexpr std::size_t inputs = valid ? std::size_t(A.input.size()) : 1;
  static constexpr std::size_t weight_count = inputs * std::size_t(units);
  static constexpr std::size_t params = weight_count + std::size_t(units);
  static constexpr std::int64_t macs = std::int64_t(weight_count);
  static constexpr std::size_t scratch_words = std::size_t(units);

  using input_type = qint<valid ? A.bits.in : 8, A.signed_input>;
  using output_type = qint<valid ? A.bits.out : 8, A.signed_output>;
  using weight_type = qint<valid ? A.bits.w : 8, true>;
  using input_element = typename input_type::storage;
  using output_element = typename output_type::storage;
  using weights_view = qview<weight_type, weight_count, Target::packs_sub_byte>;

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
