// statiq/arith/qlinear_cpp.hpp — the qlinear profile's parameters as C++ designated initializers,
// exact to the last float bit, for generated code (statiq-codegen's data translation unit).
#pragma once

#include <string>

#include "statiq/arith/qlinear.hpp"
#include "statiq/io/cpp_literal.hpp"

namespace statiq::arith {

template <>
struct cpp_initializers<qlinear> {
  static std::string of(const qlinear::channel_params& c) {
    return io::designated_initializer()("multiplier", c.multiplier).str();
  }
  static std::string of(const qlinear::output_params& o) {
    return io::designated_initializer()("zero_point", o.zero_point)("lo", o.lo)("hi", o.hi).str();
  }
  static std::string of(const qlinear::add_params& p) {
    const char* kernel = p.kernel == qlinear::add_kernel::x86_fma    ? "statiq::arith::qlinear::add_kernel::x86_fma"
                         : p.kernel == qlinear::add_kernel::x86_sse2 ? "statiq::arith::qlinear::add_kernel::x86_sse2"
                                                                     : "statiq::arith::qlinear::add_kernel::portable";
    return io::designated_initializer()("a_scale", p.a_scale)("a_zero_point", p.a_zero_point)("b_scale", p.b_scale)(
               "b_zero_point", p.b_zero_point)("y_scale", p.y_scale)("y_zero_point", p.y_zero_point)("lo", p.lo)(
               "hi", p.hi)("kernel", kernel)("a_ratio", p.a_ratio)("b_ratio", p.b_ratio)("fixed_part", p.fixed_part)
        .str();
  }
  static std::string of(const qlinear::rescale_params& p) {
    return io::designated_initializer()("in_scale", p.in_scale)("in_zero_point", p.in_zero_point)(
               "out_scale", p.out_scale)("out_zero_point", p.out_zero_point)("lo", p.lo)("hi", p.hi)
        .str();
  }
};

}  // namespace statiq::arith
