// codegen/emit/cpp_escape.cpp — see cpp_escape.hpp.
#include "codegen/emit/cpp_escape.hpp"

#include <map>
#include <set>

namespace statiq::codegen {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void append_hex_escape(std::string& out, unsigned char c) {
  out += "\\x";
  out += hex_digits[c >> 4];
  out += hex_digits[c & 15];
}

constexpr std::string_view reserved_names[] = {
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
    "golden_outputs", "golden_quantized_outputs", "dynamic"};

bool is_reserved(std::string_view s) {
  for (std::string_view k : reserved_names)
    if (k == s) return true;
  return false;
}

bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string shorten(std::string_view name, std::size_t max_bytes) {
  if (name.size() <= max_bytes) return std::string(name);
  return std::string(name.substr(0, max_bytes)) + "...(" + std::to_string(name.size()) + " bytes)";
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const bool closes_comment = c == '/' && i > 0 && text[i - 1] == '*';
    const bool second_question = c == '?' && i > 0 && text[i - 1] == '?';
    if (c < 0x20 || c >= 0x7f || c == '\\' || closes_comment || second_question)
      append_hex_escape(out, c);
    else
      out += static_cast<char>(c);
  }
  return out;
}

std::string display_name(std::string_view name) { return printable(shorten(name)); }

std::string terminal_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n' || (c >= 0x20 && c < 0x7f)) out += ch;
    else append_hex_escape(out, c);
  }
  return out;
}

std::size_t append_literal_char(std::string& out, unsigned char c) {
  if (c == '"' || c == '\\' || c == '?') {
    out += '\\';
    out += static_cast<char>(c);
    return 2;
  }
  if (c >= 0x20 && c < 0x7f) {
    out += static_cast<char>(c);
    return 1;
  }
  out += '\\';
  out += static_cast<char>('0' + (c >> 6));
  out += static_cast<char>('0' + ((c >> 3) & 7));
  out += static_cast<char>('0' + (c & 7));
  return 4;
}

std::string string_literal(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) append_literal_char(out, static_cast<unsigned char>(ch));
  return out + "\"";
}

std::string cpp_identifier(std::string_view name) {
  std::string s;
  for (std::size_t i = 0; i < name.size() && s.size() < max_identifier_chars; ++i) {
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
      s += '_';  // '/', '.', ':', '-', spaces, control bytes, non-ASCII: one separator, never "__"
    }
  }
  while (!s.empty() && s.back() == '_') s.pop_back();
  if (s.empty()) s = "layer";
  if (is_digit(s.front())) s = "layer_" + s;
  // the limit holds with the prefix (fuzz_names found "0ggg...": 70 characters)
  if (s.size() > max_identifier_chars) s.resize(max_identifier_chars);
  while (s.back() == '_') s.pop_back();
  if (is_reserved(s)) s += '_';  // reserved names are short: still within the limit
  return s;
}

std::vector<std::string> unique_identifiers(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  out.reserve(names.size());
  std::set<std::string> used;
  std::map<std::string, int> next_suffix;  // per stem: 100k nodes of one name stay linear
  for (const std::string& n : names) {
    const std::string base = cpp_identifier(n);
    std::string id = base;
    if (used.count(id)) {
      // "model_" (a reserved name made safe) continues as "model_2", never "model__2"
      const std::string stem = base.back() == '_' ? base : base + "_";
      int& k = next_suffix.try_emplace(stem, 2).first->second;
      do id = stem + std::to_string(k++);
      while (used.count(id));
    }
    used.insert(id);
    out.push_back(std::move(id));
  }
  return out;
}

}  // namespace statiq::codegen
