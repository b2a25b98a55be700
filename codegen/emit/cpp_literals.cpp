// codegen/emit/cpp_literals.cpp — C++ source text for numbers and bytes.
#include "codegen/emit/cpp_literals.hpp"

#include <stdexcept>

#include "codegen/emit/cpp_escape.hpp"
#include "statiq/io/cpp_literal.hpp"

namespace statiq::codegen {

std::string float_literal(float v) { return io::cpp_literal(v); }

std::string double_literal(double v) { return io::cpp_literal(v); }

std::string bytes_literal(std::span<const std::uint8_t> bytes, std::string_view indent) {
  constexpr std::size_t line_chars = 100;  // of escaped text per source line
  std::string out;
  out.reserve(bytes.size() * 3 + bytes.size() / 25 + 8);
  out += '"';
  std::size_t line = 0;
  for (const std::uint8_t c : bytes) {
    if (line >= line_chars) {
      out += "\"\n";
      out += indent;
      out += '"';
      line = 0;
    }
    line += append_literal_char(out, c);
  }
  out += '"';
  return out;
}

std::vector<std::uint8_t> pack_weights(std::span<const std::int32_t> values, int bits, bool packed) {
  if (bits != 1 && bits != 2 && bits != 4 && bits != 8)
    throw std::invalid_argument("weight bits must be 1, 2, 4 or 8, not " + std::to_string(bits));
  const std::int32_t lo = -(1 << (bits - 1)), hi = (1 << (bits - 1)) - 1;
  const std::size_t per_byte = packed && bits < 8 ? std::size_t(8 / bits) : 1;
  std::vector<std::uint8_t> out((values.size() + per_byte - 1) / per_byte, 0);
  const unsigned mask = (1u << bits) - 1u;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::int32_t v = values[i];
    if (v < lo || v > hi)
      throw std::out_of_range("weight " + std::to_string(i) + " is " + std::to_string(v) + ", outside the " +
                              std::to_string(bits) + "-bit range [" + std::to_string(lo) + ", " +
                              std::to_string(hi) + "]");
    if (per_byte == 1)
      out[i] = static_cast<std::uint8_t>(static_cast<std::int8_t>(v));
    else
      out[i / per_byte] |= static_cast<std::uint8_t>((static_cast<unsigned>(v) & mask) << ((i % per_byte) * unsigned(bits)));
  }
  return out;
}

}  // namespace statiq::codegen
