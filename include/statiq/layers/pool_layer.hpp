// statiq/layers/pool_layer.hpp — what the stand-alone pooling layers (MaxPool, AveragePool,
// GlobalAveragePool) share: attributes and the rules common to every target.
#pragma once

#include <span>

#include "statiq/kernels/kernel_label.hpp"
#include "statiq/kernels/select.hpp"
#include "statiq/layers/convolution.hpp"

namespace statiq {

struct PoolAttributes {
  Shape input{};
  Pool pool{};
  Bits bits{};  // .in and .out
  bool signed_input = false;
  bool signed_output = false;
  bool count_include_pad = false;  // AveragePool only (ONNX attribute)
  constexpr bool operator==(const PoolAttributes&) const = default;
};

namespace diag {
STATIQ_DIAGNOSTIC(pool_window_does_not_fit, "the pooling window does not fit the padded input",
                  fixed_string Layer, Shape input, Pool pool);
STATIQ_DIAGNOSTIC(average_pool_count_varies_with_padding,
                  "AveragePool with padding excluded from the count divides border pixels differently; "
                  "set count_include_pad or remove the padding",
                  fixed_string Layer, Pool pool);
}  // namespace diag

constexpr Shape output_shape(const PoolAttributes& a) { return a.pool.output_shape(a.input); }
constexpr Pads resolved_pads(const PoolAttributes& a) {
  return resolve_pads(a.pool.pads, a.input, a.pool.kernel, a.pool.strides);
}
constexpr std::size_t scratch_words(const PoolAttributes& a) {
  return a.pool.kind == PoolKind::max ? 0 : std::size_t(output_shape(a).size());
}

// An average over the whole map: GlobalAveragePool, or an unpadded AveragePool whose window is the
// input (TFLite's converters make both a MEAN over H and W).
constexpr bool averages_whole_map(const PoolAttributes& a) {
  if (a.pool.kind == PoolKind::global_average) return true;
  const Pads p = resolved_pads(a);
  return a.pool.kind == PoolKind::average && !(p.top || p.left || p.bottom || p.right) &&
         a.pool.kernel.h == a.input.h && a.pool.kernel.w == a.input.w;
}

// A profile with TFLite's averages (the tflite profiles): a whole-map average requantizes the sum
// first and divides by the count after (Profile::mean, TFLite's int8 MEAN); a windowed AveragePool
// divides the integers by the count first and requantizes the average after (Profile::average_pool,
// AVERAGE_POOL_2D then QUANTIZE); both with channel parameters from Profile::mean_channel.
template <class P>
inline constexpr bool divides_mean_after_requantize = requires { requires P::divides_mean_after_requantize; };

// A stand-alone pooling layer with run-time attributes. MaxPool keeps the quantization; AveragePool
// and GlobalAveragePool sum (x - zero point) and requantize per channel, 1/count folded in the scale
// (or as TFLite does, in a profile with divides_mean_after_requantize).
template <class Profile, class X, class Y>
void compute(const PoolAttributes& a, const X* x, const LayerData<Profile>& d, Y* y, std::int32_t* scratch) {
  const Shape out = output_shape(a);
  if (a.pool.kind == PoolKind::max) {
    kernels::max_pool(a.input, out, a.pool.kernel, a.pool.strides, resolved_pads(a), x, y);
    return;
  }
  if (a.pool.kind == PoolKind::global_average)
    kernels::global_sum(a.input, x, d.input_zero_point, scratch);
  else
    kernels::window_sum(a.input, out, a.pool.kernel, a.pool.strides, resolved_pads(a), x, d.input_zero_point, scratch);
  if constexpr (divides_mean_after_requantize<Profile>) {
    if (averages_whole_map(a)) {
      const int count = a.input.h * a.input.w;
      for (int c = 0; c < out.c; ++c) y[c] = static_cast<Y>(Profile::mean(scratch[c], d.channel[c], count, d.output));
    } else {
      const int count = a.pool.kernel.h * a.pool.kernel.w;
      for (int p = 0; p < out.h * out.w; ++p)
        for (int c = 0; c < out.c; ++c)
          y[p * out.c + c] = static_cast<Y>(
              Profile::average_pool(scratch[p * out.c + c], d.channel[c], count, d.input_zero_point, d.output));
    }
    return;
  }
  detail::requantize_map(scratch, out.h * out.w, out.c, d, y, false);
}

// The kernels a stand-alone pooling layer runs in this build (kernels/select.hpp decides the max or
// sum kernel from the element types and the ISA), then for the averages the requantization: the
// convolutions' requantize_map, or TFLite's scalar mean / average_pool rule.
template <class Profile, class X, class Y>
constexpr kernels::KernelLabel pool_kernel_label(const PoolAttributes& a) {
  using kernels::PoolingOp;
  if (a.pool.kind == PoolKind::max)
    return {kernels::pooling_kernel_name(PoolingOp::max_pool, kernels::max_pool_is_fast<X, Y>())};
  const PoolingOp sum = a.pool.kind == PoolKind::global_average ? PoolingOp::global_sum : PoolingOp::window_sum;
  const std::string_view then = !divides_mean_after_requantize<Profile> ? " + requantize_map"
                                : averages_whole_map(a)                 ? " + reference mean"
                                                                        : " + reference average_pool";
  return {kernels::pooling_kernel_name(sum, kernels::pool_sum_is_fast<X>()), then};
}

namespace detail {
template <fixed_string Name, LayerKind Kind, PoolAttributes A, class Target>
constexpr auto check_pool() {
  constexpr Shape out = A.pool.output_shape(A.input);
  constexpr bool positive = A.input.h > 0 && A.input.w > 0 && A.input.c > 0;
  constexpr Pads p = resolve_pads(A.pool.pads, A.input, A.pool.kernel, A.pool.strides);
  constexpr bool padded = p.top || p.left || p.bottom || p.right;
  using namespace diag;
  constexpr auto common = report_first<
      rule<positive, shape_has_a_non_positive_dimension<Name, A.input, A.input.c, A.pool.kernel, A.pool.strides>>,
      rule<(out.h > 0 && out.w > 0), pool_window_does_not_fit<Name, A.input, A.pool>>,
      rule<Kind != LayerKind::average_pool || !padded || A.count_include_pad,
           average_pool_count_varies_with_padding<Name, A.pool>>,
      rule<valid_bit_width(A.bits.in) && valid_bit_width(A.bits.out), bit_width_not_1_2_4_or_8<Name, A.bits>>>();
  if constexpr (!common) return common;
  else return Target::template check<Name, Kind, A>();
}
}  // namespace detail

// The pieces every pooling layer type declares.
template <LayerKind Kind, fixed_string Name, PoolAttributes A, class Target>
struct PoolLayerBase {
  using target = Target;
  using profile = typename Target::profile;
  static constexpr LayerKind kind = Kind;
  static constexpr std::string_view name = Name.view();
  static constexpr auto fixed_name = Name;
  static constexpr PoolAttributes attributes = A;
  static constexpr auto verdict = detail::check_pool<Name, Kind, A, Target>();
  static constexpr bool valid = verdict.ok;
  STATIQ_REPORT(verdict);
  static constexpr Shape input_shape = valid ? A.input : Shape{1, 1, 1};
  static constexpr Shape output_shape = valid ? A.pool.output_shape(A.input) : Shape{1, 1, 1};
  static constexpr Pads pads = resolve_pads(A.pool.pads, A.input, A.pool.kernel, A.pool.strides);
  static constexpr Pattern pattern = Pattern{{pool_op(A.pool)}, 1};
  static constexpr std::size_t params = 0;
  static constexpr std::int64_t macs = 0;
  using input_type = qint<valid ? A.bits.in : 8, A.signed_input>;
  using output_type = qint<valid ? A.bits.out : 8, A.signed_output>;
  using input_element = typename input_type::storage;
  using output_element = typename output_type::storage;
  static constexpr kernels::KernelLabel kernel_label = pool_kernel_label<profile, input_element, output_element>(A);
  static constexpr std::string_view kernel_name = kernel_label.view();
};

// AveragePool and GlobalAveragePool: a sum of (x - zero point) requantized per channel.
template <LayerKind Kind, fixed_string Name, PoolAttributes A, class Target>
class RequantizedPool : public PoolLayerBase<Kind, Name, A, Target> {
  using base = PoolLayerBase<Kind, Name, A, Target>;
  using profile = typename base::profile;
  static constexpr int channels = base::output_shape.c;

 public:
  static constexpr std::size_t scratch_words = statiq::scratch_words(A);
  struct parameters {
    std::span<const typename profile::channel_params, std::size_t(channels)> channel;
    typename profile::output_params output;
    std::int32_t input_zero_point = 0;
  };
  constexpr explicit RequantizedPool(const parameters& p) : p_(p) {}
  constexpr const parameters& data() const { return p_; }

  void operator()(const typename base::input_element* x, typename base::output_element* y,
                  std::int32_t* scratch) const {
    compute(A, x, LayerData<profile>{nullptr, p_.channel.data(), p_.output, p_.input_zero_point, 0}, y, scratch);
  }

 private:
  parameters p_;
};

}  // namespace statiq
