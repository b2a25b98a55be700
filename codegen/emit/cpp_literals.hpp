// codegen/emit/cpp_literals.hpp — numbers, names and byte blobs as C++ source text: exact floats,
// string literals of raw bytes (the weights), sub-byte packing, and C++-safe struct names.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace statiq::codegen {

// The shortest decimal that reads back as exactly `v` (std::to_chars), with an `f` suffix:
// "0.1f", "3.0f", "1e-07f"; non-finite values as std::numeric_limits expressions
// (statiq::io::cpp_literal, which the profiles' parameters are written with too).
std::string float_literal(float v);

// A double the same way (no suffix).
std::string double_literal(double v);

// `s` as a C++ string literal with quotes, for names (ONNX names are arbitrary text).
std::string string_literal(std::string_view s);

// Bytes as one or more adjacent string literals ("..." "..." ...), `indent` before each continued
// line. Printable ASCII stays as is ('"', '\\' and '?' escaped: no trigraph can form), everything
// else is a 3-digit octal escape, so no escape swallows the character after it. A string literal
// compiles ~10x faster than a braced array of the same bytes (ARCHITECTURE.md).
std::string bytes_literal(std::span<const std::uint8_t> bytes, std::string_view indent = "    ");

// Signed integers of `bits` bits as statiq stores weights: one per byte (two's complement byte)
// or, when `packed` and bits < 8, 8/bits to a byte, low bits first (statiq::qarray's layout).
// Throws std::out_of_range naming the index if a value does not fit in `bits` signed bits.
std::vector<std::uint8_t> pack_weights(std::span<const std::int32_t> values, int bits, bool packed);

// A C++ identifier for a layer struct: snake_case of the ONNX name ("Convolution28" ->
// "convolution28", "/features/Conv_1" -> "features_conv_1"), digits-first names prefixed with
// "layer_", keywords and the names the generated namespace already uses suffixed with '_'.
std::string cpp_identifier(std::string_view onnx_name);

// cpp_identifier of every name, made unique by suffixes _2, _3 ... in order of appearance.
std::vector<std::string> unique_identifiers(const std::vector<std::string>& onnx_names);

}  // namespace statiq::codegen
