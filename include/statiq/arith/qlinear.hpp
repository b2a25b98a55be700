// statiq/arith/qlinear.hpp — the `qlinear` profile: ONNX QLinear*/QDQ arithmetic as ONNX Runtime
// runs it on CPU (MLAS), float32 requantization, QuantizeLinear/DequantizeLinear, QLinearAdd.
#pragma once

#include <cmath>
#include <cstdint>

#include "statiq/arith/dequantize.hpp"
#include "statiq/arith/profile.hpp"
#include "statiq/arith/rounding.hpp"

namespace statiq::arith {

struct qlinear {
  static constexpr const char* name = "qlinear";
  static constexpr int accumulator_bits = 32;
  static constexpr bool supports_zero_points = true;
  static constexpr bool supports_per_channel = true;

  // m = float32(x_scale * w_scale[c] / y_scale), one per output channel.
  struct channel_params {
    float multiplier;
  };

  // lo/hi are the output type range, narrowed by a fused ReLU (lo = zero_point) or clip.
  struct output_params {
    std::int32_t zero_point;
    std::int32_t lo;
    std::int32_t hi;
  };

  // ORT computes the output scale in float32 with the product first: (x * w) / y
  // (qlinearconv.cc ComputeOutputScale).
  static constexpr float multiplier(float x_scale, float w_scale, float y_scale) {
    return (x_scale * w_scale) / y_scale;
  }

  // QLinearGlobalAveragePool (MLAS qlgavgpool.cpp, x86): the sum of `count` inputs (minus
  // count * x_zero_point) times x_scale / (y_scale * float32(count)), all float32 — not
  // multiplier(x, 1, y) / count in double, statiq's earlier form, which rounds twice and differs in
  // the last bit (onnxruntime 1.30.0 proved it: tests/ort/qlinear_rules_test.cpp). statiq uses it
  // for AveragePool too (QLinearAveragePool agreed on mlperf_kws' inputs, tests/ort).
  static constexpr float average_multiplier(float x_scale, float y_scale, int count) {
    return x_scale / (y_scale * static_cast<float>(count));
  }

  // MlasRequantizeOutput: float32(acc) (rounds once |acc| > 2^24), times m in float32,
  // clamped to [lo - zp, hi - zp] in float, rounded half to even, then + zp.
  static constexpr std::int32_t requantize(std::int64_t acc, const channel_params& ch,
                                           const output_params& out) {
    const float scaled = static_cast<float>(static_cast<std::int32_t>(acc)) * ch.multiplier;
    const float clamped = clamp_f32(scaled, static_cast<float>(out.lo - out.zero_point),
                                    static_cast<float>(out.hi - out.zero_point));
    return static_cast<std::int32_t>(round_half_even(clamped)) + out.zero_point;
  }

  // --- parameters from real scales and zero points (ORT's quantizer) -----------------------

  static constexpr std::int64_t round_real(float v) { return round_half_even(v); }

  // Conv / Gemm output channel: multiplier(); `count` accumulators summed (a fused average)
  // divide it, in double.
  static channel_params channel(float x_scale, float w_scale, float y_scale, int count = 1) {
    const float m = multiplier(x_scale, w_scale, y_scale);
    return {count == 1 ? m : static_cast<float>(static_cast<double>(m) / count)};
  }

  // A stand-alone (global) average pool's channel, in ORT's order (average_multiplier).
  static constexpr channel_params average_channel(float x_scale, float y_scale, int count) {
    return {average_multiplier(x_scale, y_scale, count)};
  }

  static constexpr output_params output(scale_zero_point y, output_bounds b) { return {y.zero_point, b.lo, b.hi}; }

  // QuantizeLinear (MlasQuantizeLinear): division in float32, not a reciprocal multiply.
  static constexpr std::int32_t quantize(float x, float scale, std::int32_t zero_point,
                                         std::int32_t qmin, std::int32_t qmax) {
    const float clamped = clamp_f32(x / scale, static_cast<float>(qmin - zero_point),
                                    static_cast<float>(qmax - zero_point));
    return static_cast<std::int32_t>(round_half_even(clamped)) + zero_point;
  }

  // DequantizeLinear: float(q - zp) * scale, one float32 multiply.
  static constexpr float dequantize(std::int32_t q, float scale, std::int32_t zero_point) {
    return arith::dequantize(q, scale, zero_point);
  }

  // QLinearAdd. MLAS has three element formulas that differ in the last float bit:
  //  - x86_fma  : x86-64 with AVX2+FMA (MlasQLinearAddKernelAvx2Helper), what ORT runs on
  //               any current x86 CPU: r = fma(a, ra, fma(b, rb, fixed)), ra = sa/sc,
  //               rb = sb/sc, fixed = zc - (ra*za + rb*zb);
  //  - x86_sse2 : x86 without AVX2: r = (fixed + a*ra) + b*rb, no fusion;
  //  - portable : MlasQLinearAddKernelRawHelper (ARM fallback, POWER tails):
  //               r = nearbyintf(clamp(((sa*(a-za)) + (sb*(b-zb))) / sc) + zc).
  // x86 paths round half to even and saturate to the output type (packs).
  // [inferred] the scalar `fixed` is compiled by GCC with -mfma, which contracts
  // ra*za + rb*zb into fma(ra, za, rb*zb); it only matters when a zero point is non-zero.
  enum class add_kernel : std::uint8_t { x86_fma, x86_sse2, portable };

  struct add_params {
    float a_scale;
    std::int32_t a_zero_point;
    float b_scale;
    std::int32_t b_zero_point;
    float y_scale;
    std::int32_t y_zero_point;
    std::int32_t lo;
    std::int32_t hi;
    add_kernel kernel;
    float a_ratio;     // a_scale / y_scale
    float b_ratio;     // b_scale / y_scale
    float fixed_part;  // y_zp - (a_ratio * a_zp + b_ratio * b_zp), as the kernel computes it
  };

  static add_params make_add(float a_scale, std::int32_t a_zero_point, float b_scale,
                             std::int32_t b_zero_point, float y_scale, std::int32_t y_zero_point,
                             std::int32_t lo, std::int32_t hi,
                             add_kernel kernel = add_kernel::x86_fma) {
    const float ra = a_scale / y_scale;
    const float rb = b_scale / y_scale;
    const float za = static_cast<float>(a_zero_point);
    const float zb = static_cast<float>(b_zero_point);
    const float zero_part = kernel == add_kernel::x86_fma ? std::fma(ra, za, rb * zb) : ra * za + rb * zb;
    return {a_scale, a_zero_point, b_scale, b_zero_point, y_scale, y_zero_point, lo, hi, kernel,
            ra, rb, static_cast<float>(y_zero_point) - zero_part};
  }

  static add_params add_from(scale_zero_point a, scale_zero_point b, scale_zero_point y, output_bounds bounds) {
    return make_add(a.scale, a.zero_point, b.scale, b.zero_point, y.scale, y.zero_point, bounds.lo, bounds.hi);
  }

  static std::int32_t add(std::int32_t a, std::int32_t b, const add_params& p) {
    const float fa = static_cast<float>(a);
    const float fb = static_cast<float>(b);
    switch (p.kernel) {
      case add_kernel::x86_fma: {
        const float r = std::fma(fa, p.a_ratio, std::fma(fb, p.b_ratio, p.fixed_part));
        return static_cast<std::int32_t>(saturate(round_half_even(r), p.lo, p.hi));
      }
      case add_kernel::x86_sse2: {
        const float r = (p.fixed_part + fa * p.a_ratio) + fb * p.b_ratio;
        return static_cast<std::int32_t>(saturate(round_half_even(r), p.lo, p.hi));
      }
      case add_kernel::portable:
      default: {
        const float va = p.a_scale * static_cast<float>(a - p.a_zero_point);
        const float vb = p.b_scale * static_cast<float>(b - p.b_zero_point);
        const float vc = clamp_f32((va + vb) / p.y_scale, static_cast<float>(p.lo - p.y_zero_point),
                                   static_cast<float>(p.hi - p.y_zero_point));
        // The zero point is added in float before rounding, which can move a near-tie.
        return static_cast<std::int32_t>(round_half_even(vc + static_cast<float>(p.y_zero_point)));
      }
    }
  }

  // A Concat input with another quantization: ORT's QLinearConcat builds its lookup table as
  // QuantizeLinear(DequantizeLinear(q)), the same as an unfused DQ -> Q pair (inputs already
  // in the output quantization are copied, which this formula reproduces exactly).
  struct rescale_params {
    float in_scale;
    std::int32_t in_zero_point;
    float out_scale;
    std::int32_t out_zero_point;
    std::int32_t lo;
    std::int32_t hi;
  };

  static constexpr rescale_params rescale_from(scale_zero_point x, scale_zero_point y, output_bounds b) {
    return {x.scale, x.zero_point, y.scale, y.zero_point, b.lo, b.hi};
  }

  static constexpr std::int32_t rescale(std::int32_t q, const rescale_params& p) {
    return quantize(dequantize(q, p.in_scale, p.in_zero_point), p.out_scale, p.out_zero_point,
                    p.lo, p.hi);
  }
};

static_assert(ArithmeticProfile<qlinear>);

}  // namespace statiq::arith
