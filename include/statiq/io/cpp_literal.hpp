// statiq/io/cpp_literal.hpp — numbers as C++ source text that reads back as exactly the same
// value, and designated initializers made of them: how the arithmetic profiles write their
// parameters into generated code (statiq/arith/<profile>_cpp.hpp).
#pragma once

#include <array>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

namespace statiq::io {

namespace detail {
// to_chars without precision is the shortest round-trip form; it may look like an integer
// ("3") or use an exponent ("1e-07"); only the integer form needs a ".0" to be a floating literal.
template <class T>
std::string shortest(T v, std::string_view type) {
  if (std::isnan(v)) return "std::numeric_limits<" + std::string(type) + ">::quiet_NaN()";
  if (std::isinf(v))
    return std::string(v < 0 ? "-" : "") + "std::numeric_limits<" + std::string(type) + ">::infinity()";
  std::array<char, 64> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  std::string s(buf.data(), r.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}
}  // namespace detail

// "0.1f", "3.0f", "1e-07f"; non-finite values as std::numeric_limits expressions.
inline std::string cpp_literal(float v) {
  std::string s = detail::shortest(v, "float");
  return s.find("numeric_limits") == std::string::npos ? s + "f" : s;
}

// A double the same way, without a suffix.
inline std::string cpp_literal(double v) { return detail::shortest(v, "double"); }

// An integer; the most negative int32 and int64 are written as expressions (their digits alone
// are a literal too large for the type, which the minus then negates).
template <std::integral I>
  requires(!std::is_same_v<I, bool>)
std::string cpp_literal(I value) {
  const auto v = static_cast<std::int64_t>(value);
  if (v == std::numeric_limits<std::int32_t>::min()) return "(-2147483647 - 1)";
  if (v == std::numeric_limits<std::int64_t>::min()) return "(-9223372036854775807LL - 1)";
  return std::to_string(v);
}

// "{.zero_point = 117, .lo = 0, .hi = 255}": fields in declaration order, each named.
class designated_initializer {
 public:
  designated_initializer& operator()(std::string_view field, std::string_view value) {
    text_ += text_.empty() ? "{." : ", .";
    text_ += field;
    text_ += " = ";
    text_ += value;
    return *this;
  }
  template <class T>
    requires std::is_arithmetic_v<T>
  designated_initializer& operator()(std::string_view field, T value) {
    return (*this)(field, std::string_view(cpp_literal(value)));
  }
  std::string str() const { return text_.empty() ? "{}" : text_ + "}"; }

 private:
  std::string text_;
};

}  // namespace statiq::io
