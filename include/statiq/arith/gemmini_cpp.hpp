// statiq/arith/gemmini_cpp.hpp — the gemmini profile's parameters as C++ designated initializers,
// exact to the last float bit, for generated code (statiq-codegen's data translation unit).
#pragma once

#include <string>

#include "statiq/arith/gemmini.hpp"
#include "statiq/io/cpp_literal.hpp"

namespace statiq::arith {

template <>
struct cpp_initializers<gemmini> {
  static std::string of(const gemmini::channel_params& c) {
    return io::designated_initializer()("multiplier", c.multiplier).str();
  }
  static std::string of(const gemmini::output_params& o) {
    return io::designated_initializer()("lo", o.lo)("hi", o.hi).str();
  }
  static std::string of(const gemmini::add_params& p) {
    return io::designated_initializer()("a_scale", p.a_scale)("b_scale", p.b_scale)("c_scale", p.c_scale)("lo", p.lo)(
               "hi", p.hi)
        .str();
  }
  static std::string of(const gemmini::rescale_params& p) {
    return io::designated_initializer()("scale", p.scale)("lo", p.lo)("hi", p.hi).str();
  }
};

}  // namespace statiq::arith
