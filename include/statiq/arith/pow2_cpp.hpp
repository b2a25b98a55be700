// statiq/arith/pow2_cpp.hpp — the pow2 profile's parameters as C++ designated initializers, for
// generated code (statiq-codegen's data translation unit).
#pragma once

#include <string>

#include "statiq/arith/pow2.hpp"
#include "statiq/io/cpp_literal.hpp"

namespace statiq::arith {

template <>
struct cpp_initializers<pow2> {
  static std::string of(const pow2::channel_params& c) {
    return io::designated_initializer()("mantissa", int{c.mantissa})("shift", c.shift).str();
  }
  static std::string of(const pow2::output_params& o) {
    const std::string clip = o.accumulator_clip == pow2::no_accumulator_clip ? "statiq::arith::pow2::no_accumulator_clip"
                                                                             : io::cpp_literal(o.accumulator_clip);
    return io::designated_initializer()("lo", o.lo)("hi", o.hi)("accumulator_clip", clip).str();
  }
  static std::string of(const pow2::add_params& p) {
    return io::designated_initializer()("a_shift", p.a_shift)("b_shift", p.b_shift)("output", of(p.output))("lo", p.lo)(
               "hi", p.hi)
        .str();
  }
  static std::string of(const pow2::rescale_params& p) {
    return io::designated_initializer()("shift", p.shift)("output", of(p.output))("lo", p.lo)("hi", p.hi).str();
  }
};

}  // namespace statiq::arith
