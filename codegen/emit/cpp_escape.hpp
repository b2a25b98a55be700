// codegen/emit/cpp_escape.hpp — text from input files (node, tensor and file names: arbitrary
// bytes) made safe for generated C++ and for messages: comments, string literals, identifiers.
// Every name that reaches generated code goes through one of these; nothing else escapes text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace statiq::codegen {

// Names longer than this are cut (shorten) before they are shown in comments, messages and the
// layer types' diagnostic names: a 10,000-byte node name stays a one-line comment.
inline constexpr std::size_t max_shown_name_bytes = 120;

// Identifiers derived from names are at most this long (before a uniqueness suffix).
inline constexpr std::size_t max_identifier_chars = 64;

// The first `max_bytes` bytes of `name` and "...(N bytes)" when it is longer; raw bytes, not yet
// escaped: for text that goes on to printable(), string_literal() or a comment.
std::string shorten(std::string_view name, std::size_t max_bytes = max_shown_name_bytes);

// `text` as printable ASCII that is safe inside a // comment or a /* */ comment and on a terminal:
// space and the printable characters stay; every other byte (newline, CR, tab, NUL, escape
// sequences, bytes of UTF-8 or invalid UTF-8) and the backslash become \xHH, so no line can end
// in a backslash (which would splice the next line into the comment); "*/" becomes "*\x2f" and the
// second '?' of "??" becomes "\x3f" (no trigraph). Never longer than 4 * text.size().
std::string printable(std::string_view text);

// A name as messages show it: printable(shorten(name)).
std::string display_name(std::string_view name);

// A whole message for the terminal: lines stay lines, every other control byte (an escape
// sequence in a node name), DEL and non-ASCII byte becomes \xHH; backslashes stay, so names already
// shown with display_name() read the same. The last guard before anything reaches stderr.
std::string terminal_text(std::string_view text);

// `s` as a C++ string literal with quotes, for names (ONNX names are arbitrary bytes): '"', '\\'
// and '?' (no trigraph can form) escaped with a backslash, printable ASCII as is, every other
// byte as a 3-digit octal escape (which cannot swallow a following digit, unlike \x).
std::string string_literal(std::string_view s);

// Appends byte `c` as it stands inside a string literal (string_literal's rule); returns the
// number of characters appended. bytes_literal shares it.
std::size_t append_literal_char(std::string& out, unsigned char c);

// A C++ identifier for a layer struct: snake_case of the ONNX name ("Convolution28" ->
// "convolution28", "/features/Conv_1" -> "features_conv_1"), only [a-z0-9_], never "__", at most
// max_identifier_chars; digits-first names prefixed with "layer_", keywords and the names the
// generated namespace already uses suffixed with '_'.
std::string cpp_identifier(std::string_view onnx_name);

// cpp_identifier of every name, made unique by suffixes _2, _3 ... in order of appearance.
std::vector<std::string> unique_identifiers(const std::vector<std::string>& onnx_names);

}  // namespace statiq::codegen
