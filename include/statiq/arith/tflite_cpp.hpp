// statiq/arith/tflite_cpp.hpp — the tflite profiles' parameters (every rounding and kernel set) as C++
// designated initializers, for generated code (statiq-codegen's data translation unit).
#pragma once

#include <string>

#include "statiq/arith/tflite.hpp"
#include "statiq/io/cpp_literal.hpp"

namespace statiq::arith {

template <tflite_rounding R, tflite_kernels K>
struct cpp_initializers<tflite_profile<R, K>> {
  using P = tflite_profile<R, K>;
  static std::string of(const typename P::channel_params& c) {
    return io::designated_initializer()("multiplier", c.multiplier)("shift", c.shift).str();
  }
  static std::string of(const typename P::output_params& o) {
    return io::designated_initializer()("zero_point", o.zero_point)("lo", o.lo)("hi", o.hi).str();
  }
  static std::string of(const typename P::add_params& p) {
    return io::designated_initializer()("a_offset", p.a_offset)("b_offset", p.b_offset)("left_shift", p.left_shift)(
               "a", of(p.a))("b", of(p.b))("output", of(p.output))("output_offset", p.output_offset)("lo", p.lo)(
               "hi", p.hi)
        .str();
  }
  static std::string of(const typename P::rescale_params& p) {
    return io::designated_initializer()("in_zero_point", p.in_zero_point)("multiplier", of(p.multiplier))(
               "out_zero_point", p.out_zero_point)("lo", p.lo)("hi", p.hi)
        .str();
  }
};

}  // namespace statiq::arith
