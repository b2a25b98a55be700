// statiq/arith/akida_v1_cpp.hpp — the akida_v1 profile's parameters as C++ designated
// initializers, for generated code (statiq-codegen's data translation unit).
#pragma once

#include <string>

#include "statiq/arith/akida_v1.hpp"
#include "statiq/io/cpp_literal.hpp"

namespace statiq::arith {

template <>
struct cpp_initializers<akida_v1> {
  static std::string of(const akida_v1::channel_params& c) {
    return io::designated_initializer()("threshold", c.threshold)("step", c.step).str();
  }
  static std::string of(const akida_v1::output_params& o) {
    return io::designated_initializer()("lo", o.lo)("hi", o.hi).str();
  }
  static std::string of(const akida_v1::add_params& p) {
    return io::designated_initializer()("a_shift", p.a_shift)("b_shift", p.b_shift)("activation", of(p.activation))(
               "lo", p.lo)("hi", p.hi)
        .str();
  }
  static std::string of(const akida_v1::rescale_params& p) {
    return io::designated_initializer()("shift", p.shift)("activation", of(p.activation))("lo", p.lo)("hi", p.hi).str();
  }
};

}  // namespace statiq::arith
