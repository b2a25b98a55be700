// codegen/emit/cpp_literals.cpp — C++ source text for numbers, bytes and names.
#include "codegen/emit/cpp_literals.hpp"

#include <set>
#include <stdexcept>

#include "statiq/io/cpp_literal.hpp"

namespace statiq::codegen {

namespace {

constexpr std::string_view keywords[] = {
    "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break", "case", "catch",
    "char", "char8_t", "char16_t", "char32_t", "class", "compl", "concept", "const", "consteval", "constexpr",
    "constinit", "const_cast", "continue", "co_await", "co_return", "co_yield", "decltype", "default", "delete",
    "do", "double", "dynamic_cast", "else", "enum", "explicit", "export", "extern", "false", "float", "for",
    "friend", "goto", "if", "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not", "not_eq",
    "nullptr", "operator", "or", "or_eq", "private", "protected", "public", "register", "reinterpret_cast",
    "requires", "return", "short", "signed", "sizeof", "static", "static_assert", "static_cast", "struct",
    "switch", "template", "this", "thread_local", "throw", "true", "try", "typedef", "typeid", "typename",
    "union", "unsigned", "using", "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq",
    // names the generated namespace defines itself, and the namespaces it refers to
    "target", "model", "make_model", "self_test", "data", "statiq", "std", "input_scale", "input_zero_point",
    "output_scale", "output_zero_point", "quantized_output_node", "golden_count", "golden_inputs",
    "golden_outputs", "golden_quantized_outputs"};

bool is_reserved(std::string_view s) {
  for (std::string_view k : keywords)
    if (k == s) return true;
  return false;
}

bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string float_literal(float v) { return io::cpp_literal(v); }

std::string double_literal(double v) { return io::cpp_literal(v); }

std::string string_literal(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\' || c == '?') {
      out += '\\';
      out += ch;
    } else if (c >= 0x20 && c < 0x7f) {
      out += ch;
    } else {
      const char oct[] = {'\\', char('0' + (c >> 6)), char('0' + ((c >> 3) & 7)), char('0' + (c & 7))};
      out.append(oct, 4);
    }
  }
  return out + "\"";
}

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
    if (c == '"' || c == '\\' || c == '?') {
      out += '\\';
      out += static_cast<char>(c);
      line += 2;
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
      line += 1;
    } else {
      out += '\\';
      out += static_cast<char>('0' + (c >> 6));
      out += static_cast<char>('0' + ((c >> 3) & 7));
      out += static_cast<char>('0' + (c & 7));
      line += 4;
    }
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

std::string cpp_identifier(std::string_view name) {
  std::string s;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (is_upper(c)) {
      // a word starts at an upper-case letter after a lower-case letter or digit ("ConvBlock"),
      // or before a lower-case one inside a run of capitals ("HTTPServer" -> http_server)
      const bool after_word = i > 0 && (is_lower(name[i - 1]) || is_digit(name[i - 1]));
      const bool acronym_end = i > 0 && is_upper(name[i - 1]) && i + 1 < name.size() && is_lower(name[i + 1]);
      if ((after_word || acronym_end) && !s.empty() && s.back() != '_') s += '_';
      s += static_cast<char>(c - 'A' + 'a');
    } else if (is_lower(c) || is_digit(c)) {
      s += c;
    } else if (!s.empty() && s.back() != '_') {
      s += '_';  // '/', '.', ':', '-', spaces, non-ASCII: one separator, never "__" (reserved)
    }
  }
  while (!s.empty() && s.back() == '_') s.pop_back();
  if (s.empty()) s = "layer";
  if (is_digit(s.front())) s = "layer_" + s;
  if (is_reserved(s)) s += '_';
  return s;
}

std::vector<std::string> unique_identifiers(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  std::set<std::string> used;
  for (const std::string& n : names) {
    const std::string base = cpp_identifier(n);
    std::string id = base;
    // "model_" (a reserved name made safe) continues as "model_2", never "model__2"
    const std::string stem = base.back() == '_' ? base : base + "_";
    for (int k = 2; used.count(id); ++k) id = stem + std::to_string(k);
    used.insert(id);
    out.push_back(id);
  }
  return out;
}

}  // namespace statiq::codegen
