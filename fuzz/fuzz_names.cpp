// fuzz/fuzz_names.cpp — the name encoder of the generated code (codegen/emit/cpp_escape.hpp) on
// arbitrary bytes, checking what it promises: comment text is printable ASCII without "*/", "??"
// or a trailing backslash; a string literal decodes back to exactly the input; an identifier is
// [a-z0-9_] without "__", short, and not a leading digit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "codegen/emit/cpp_escape.hpp"

namespace {

void require(bool ok) {
  if (!ok) std::abort();  // libFuzzer reports the input
}

// Reads a literal as string_literal writes it: "...", \\ \" \? and 3-digit octal escapes.
std::string decode_literal(std::string_view lit) {
  require(lit.size() >= 2 && lit.front() == '"' && lit.back() == '"');
  std::string out;
  for (std::size_t i = 1; i + 1 < lit.size(); ++i) {
    const char c = lit[i];
    require(c >= 0x20 && c < 0x7f && c != '"');
    if (c != '\\') {
      require(c != '?');  // every '?' is escaped: no trigraph
      out += c;
      continue;
    }
    require(i + 2 < lit.size());
    const char e = lit[++i];
    if (e == '\\' || e == '"' || e == '?') {
      out += e;
      continue;
    }
    require(i + 3 < lit.size() && e >= '0' && e <= '3');
    const char d1 = lit[++i], d2 = lit[++i];
    require(d1 >= '0' && d1 <= '7' && d2 >= '0' && d2 <= '7');
    out += static_cast<char>((e - '0') * 64 + (d1 - '0') * 8 + (d2 - '0'));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace statiq::codegen;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const std::string p = printable(text);
  for (const char c : p) require(c >= 0x20 && c < 0x7f);
  require(p.find("*/") == std::string::npos && p.find("??") == std::string::npos);
  require(p.empty() || p.back() != '\\');
  require(p.size() <= 4 * text.size());

  require(shorten(text).size() <= max_shown_name_bytes + 32);
  const std::string d = display_name(text);
  for (const char c : d) require(c >= 0x20 && c < 0x7f);

  for (const char c : terminal_text(text)) require(c == '\n' || (c >= 0x20 && c < 0x7f));

  require(decode_literal(string_literal(text)) == text);

  const std::string id = cpp_identifier(text);
  require(!id.empty() && id.size() <= max_identifier_chars);
  require(!(id[0] >= '0' && id[0] <= '9'));
  for (const char c : id) require((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  require(id.find("__") == std::string::npos && id.front() != '_');
  return 0;
}
