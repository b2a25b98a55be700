// statiq/io/npy.hpp — read and write NumPy .npy files (format v1/v2/v3; little-endian, C order;
// float32, float64, uint8, int8, int32, int64) for calibration samples, golden vectors and tests.
#pragma once

#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <unistd.h>  // getpid: a temp name unique per process for the atomic write

namespace statiq::io {

// A whole .npy array in memory. dtype is the NumPy name ("float32", "uint8", ...); data holds
// the elements in C order, little-endian, exactly as in the file.
struct NpyArray {
  std::vector<std::size_t> shape;
  std::string dtype;
  std::vector<std::byte> data;

  std::size_t size() const {
    std::size_t n = 1;
    for (std::size_t d : shape) n *= d;
    return n;
  }

  // The elements converted to T. A conversion to an integer type checks that every value is
  // exactly representable (no silent truncation of 2.5 or 300 to uint8).
  template <class T>
  std::vector<T> as() const;

  // The elements as T without conversion; T must be the stored dtype.
  template <class T>
  std::span<const T> view() const;
};

namespace detail {

template <class T>
constexpr std::string_view npy_dtype_name() {
  if constexpr (std::is_same_v<T, float>) return "float32";
  else if constexpr (std::is_same_v<T, double>) return "float64";
  else if constexpr (std::is_same_v<T, std::uint8_t>) return "uint8";
  else if constexpr (std::is_same_v<T, std::int8_t>) return "int8";
  else if constexpr (std::is_same_v<T, std::int32_t>) return "int32";
  else if constexpr (std::is_same_v<T, std::int64_t>) return "int64";
  else static_assert(sizeof(T) == 0, "YOU_USED_AN_ELEMENT_TYPE_NPY_IO_DOES_NOT_SUPPORT");
}

// {NumPy name, descr as written, item size}; descr without its byte-order character.
struct NpyDtype {
  std::string_view name;
  char kind;
  std::size_t item_size;
};
inline constexpr std::array<NpyDtype, 6> npy_dtypes{{{"float32", 'f', 4},
                                                     {"float64", 'f', 8},
                                                     {"uint8", 'u', 1},
                                                     {"int8", 'i', 1},
                                                     {"int32", 'i', 4},
                                                     {"int64", 'i', 8}}};

inline std::size_t npy_item_size(std::string_view dtype) {
  for (const auto& d : npy_dtypes)
    if (d.name == dtype) return d.item_size;
  throw std::runtime_error("npy: unsupported dtype '" + std::string(dtype) + "'");
}

[[noreturn]] inline void npy_fail(const std::filesystem::path& path, const std::string& what) {
  throw std::runtime_error("npy file '" + path.string() + "': " + what);
}

// The header is a Python dict literal, e.g. {'descr': '<f4', 'fortran_order': False,
// 'shape': (13, 10), }. A tiny recursive-descent reader of that subset: quoted strings,
// True/False, tuples of integers.
class NpyHeaderParser {
 public:
  NpyHeaderParser(std::string_view text, const std::filesystem::path& path) : s_(text), path_(path) {}

  void parse(std::string& descr, bool& fortran_order, std::vector<std::size_t>& shape) {
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (true) {
      skip_ws();
      if (peek() == '}') break;
      std::string key = parse_string();
      expect(':');
      if (key == "descr") {
        descr = parse_string();
        have_descr = true;
      } else if (key == "fortran_order") {
        fortran_order = parse_bool();
        have_order = true;
      } else if (key == "shape") {
        shape = parse_tuple();
        have_shape = true;
      } else {
        npy_fail(path_, "header has an unknown key '" + key + "'");
      }
      skip_ws();
      if (peek() == ',') ++pos_;
    }
    if (!have_descr || !have_order || !have_shape)
      npy_fail(path_, "header lacks one of 'descr', 'fortran_order', 'shape'");
  }

 private:
  char peek() {
    if (pos_ >= s_.size()) npy_fail(path_, "header ends early (malformed dict)");
    return s_[pos_];
  }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n')) ++pos_;
  }
  void expect(char c) {
    skip_ws();
    if (peek() != c) npy_fail(path_, std::string("malformed header: expected '") + c + "' at offset " +
                                         std::to_string(pos_) + " in \"" + std::string(s_) + "\"");
    ++pos_;
  }
  std::string parse_string() {
    skip_ws();
    char q = peek();
    if (q != '\'' && q != '"') npy_fail(path_, "malformed header: expected a quoted string");
    ++pos_;
    std::size_t end = s_.find(q, pos_);
    if (end == std::string_view::npos) npy_fail(path_, "malformed header: unterminated string");
    std::string out(s_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return out;
  }
  bool parse_bool() {
    skip_ws();
    if (s_.substr(pos_, 4) == "True") { pos_ += 4; return true; }
    if (s_.substr(pos_, 5) == "False") { pos_ += 5; return false; }
    npy_fail(path_, "malformed header: fortran_order is not True/False");
  }
  std::vector<std::size_t> parse_tuple() {
    std::vector<std::size_t> dims;
    expect('(');
    while (true) {
      skip_ws();
      if (peek() == ')') { ++pos_; break; }
      if (peek() < '0' || peek() > '9') npy_fail(path_, "malformed header: shape holds a non-integer");
      std::size_t v = 0;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        if (v > (std::numeric_limits<std::size_t>::max() - 9) / 10) npy_fail(path_, "shape dimension overflows");
        v = v * 10 + static_cast<std::size_t>(s_[pos_++] - '0');
      }
      dims.push_back(v);
      skip_ws();
      if (peek() == ',') ++pos_;
    }
    return dims;
  }

  std::string_view s_;
  const std::filesystem::path& path_;
  std::size_t pos_ = 0;
};

template <class To, class From>
To npy_convert(From v) {
  if constexpr (std::is_floating_point_v<To>) {
    return static_cast<To>(v);
  } else {
    if constexpr (std::is_floating_point_v<From>) {
      if (!std::isfinite(v) || std::trunc(v) != v || v < static_cast<From>(std::numeric_limits<To>::min()) ||
          v > static_cast<From>(std::numeric_limits<To>::max()))
        throw std::runtime_error("npy: value " + std::to_string(v) + " is not exactly representable as " +
                                 std::string(npy_dtype_name<To>()));
    } else {
      if (!std::in_range<To>(v))
        throw std::runtime_error("npy: value " + std::to_string(v) + " does not fit " +
                                 std::string(npy_dtype_name<To>()));
    }
    return static_cast<To>(v);
  }
}

template <class To, class From>
void npy_convert_all(const std::vector<std::byte>& data, std::vector<To>& out) {
  const std::size_t n = data.size() / sizeof(From);
  out.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    From v;
    std::memcpy(&v, data.data() + i * sizeof(From), sizeof(From));
    out[i] = npy_convert<To>(v);
  }
}

}  // namespace detail

template <class T>
std::vector<T> NpyArray::as() const {
  std::vector<T> out;
  if (dtype == "float32") detail::npy_convert_all<T, float>(data, out);
  else if (dtype == "float64") detail::npy_convert_all<T, double>(data, out);
  else if (dtype == "uint8") detail::npy_convert_all<T, std::uint8_t>(data, out);
  else if (dtype == "int8") detail::npy_convert_all<T, std::int8_t>(data, out);
  else if (dtype == "int32") detail::npy_convert_all<T, std::int32_t>(data, out);
  else if (dtype == "int64") detail::npy_convert_all<T, std::int64_t>(data, out);
  else throw std::runtime_error("npy: unsupported dtype '" + dtype + "'");
  return out;
}

template <class T>
std::span<const T> NpyArray::view() const {
  if (dtype != detail::npy_dtype_name<T>())
    throw std::runtime_error("npy: array holds " + dtype + ", not " + std::string(detail::npy_dtype_name<T>()));
  // std::vector's storage comes from operator new, aligned for any fundamental type.
  return {reinterpret_cast<const T*>(data.data()), data.size() / sizeof(T)};
}

// Reads a whole .npy file. Throws std::runtime_error naming the file and the problem.
inline NpyArray read_npy(const std::filesystem::path& path) {
  using detail::npy_fail;
  std::ifstream in(path, std::ios::binary);
  if (!in) npy_fail(path, "cannot open for reading");
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) npy_fail(path, "read error");

  constexpr std::string_view magic = "\x93NUMPY";
  if (bytes.size() < magic.size() + 2 || std::string_view(bytes.data(), magic.size()) != magic)
    npy_fail(path, "bad magic (not a .npy file)");
  const auto major = static_cast<unsigned char>(bytes[6]);
  if (major < 1 || major > 3) npy_fail(path, "unsupported format version " + std::to_string(major));
  const std::size_t len_size = major == 1 ? 2 : 4;
  const std::size_t prefix = 8 + len_size;
  if (bytes.size() < prefix) npy_fail(path, "truncated (header length missing)");
  std::size_t header_len = 0;
  for (std::size_t i = 0; i < len_size; ++i)
    header_len |= static_cast<std::size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
  if (bytes.size() < prefix + header_len) npy_fail(path, "truncated (header)");

  std::string descr;
  bool fortran_order = false;
  NpyArray array;
  detail::NpyHeaderParser(std::string_view(bytes.data() + prefix, header_len), path)
      .parse(descr, fortran_order, array.shape);
  if (fortran_order) npy_fail(path, "fortran_order arrays are not supported (save a C-order array)");
  if (descr.size() < 3) npy_fail(path, "unsupported dtype '" + descr + "'");
  const char order = descr[0];
  const char kind = descr[1];
  std::size_t item_size = 0;
  for (char c : descr.substr(2)) {
    if (c < '0' || c > '9') npy_fail(path, "unsupported dtype '" + descr + "'");
    item_size = item_size * 10 + static_cast<std::size_t>(c - '0');
  }
  if (order == '>' && item_size > 1) npy_fail(path, "big-endian dtype '" + descr + "' is not supported");
  if (order != '<' && order != '|' && !(order == '>' && item_size == 1))
    npy_fail(path, "unsupported dtype '" + descr + "'");
  for (const auto& d : detail::npy_dtypes)
    if (d.kind == kind && d.item_size == item_size) array.dtype = d.name;
  if (array.dtype.empty()) npy_fail(path, "unsupported dtype '" + descr + "'");

  std::size_t count = 1;
  for (std::size_t d : array.shape) {
    if (d != 0 && count > std::numeric_limits<std::size_t>::max() / item_size / d)
      npy_fail(path, "shape too large");
    count *= d;
  }
  const std::size_t expected = count * item_size;
  const std::size_t available = bytes.size() - prefix - header_len;
  if (available < expected)
    npy_fail(path, "truncated: " + std::to_string(available) + " data bytes, the header's shape needs " +
                       std::to_string(expected));
  if (available > expected)
    npy_fail(path, std::to_string(available - expected) + " bytes after the array's data (corrupt header?)");
  array.data.resize(expected);
  if (expected) std::memcpy(array.data.data(), bytes.data() + prefix + header_len, expected);
  return array;
}

// Writes a C-order little-endian array atomically: to a temp file in the same folder, renamed
// over `path` only once complete, so a reader never sees a half-written file.
template <class T>
void write_npy(const std::filesystem::path& path, std::span<const std::size_t> shape, std::span<const T> data) {
  static_assert(std::endian::native == std::endian::little, "write_npy writes the host's little-endian bytes");
  using detail::npy_fail;
  std::size_t count = 1;
  for (std::size_t d : shape) count *= d;
  if (count != data.size())
    npy_fail(path, "shape holds " + std::to_string(count) + " elements but " + std::to_string(data.size()) +
                       " were given");

  const std::string_view name = detail::npy_dtype_name<T>();
  std::string descr = sizeof(T) == 1 ? "|" : "<";
  for (const auto& d : detail::npy_dtypes)
    if (d.name == name) descr += d.kind + std::to_string(d.item_size);
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (";
  for (std::size_t d : shape) dict += std::to_string(d) + ", ";
  if (shape.size() > 1) dict.resize(dict.size() - 2);  // "(3, 4)" but "(3,)" for one dim
  else if (shape.size() == 1) dict.pop_back();
  dict += "), }";
  // NumPy pads the header with spaces and a final newline so the data starts 64-byte aligned.
  const bool v1 = (10 + dict.size() + 1 + 63) / 64 * 64 - 10 <= 65535;
  const std::size_t prefix = v1 ? 10 : 12;
  const std::size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict += '\n';

  std::string head = "\x93NUMPY";
  head += static_cast<char>(v1 ? 1 : 2);
  head += '\0';
  const std::size_t len = dict.size();
  for (std::size_t i = 0; i < (v1 ? 2u : 4u); ++i) head += static_cast<char>((len >> (8 * i)) & 0xff);

  static int counter = 0;
  std::filesystem::path tmp = path;
  tmp += ".tmp" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) npy_fail(path, "cannot open temp file '" + tmp.string() + "' for writing");
    out.write(head.data(), static_cast<std::streamsize>(head.size()));
    out.write(dict.data(), static_cast<std::streamsize>(dict.size()));
    out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size_bytes()));
    out.flush();
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      npy_fail(path, "write failed (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    npy_fail(path, "cannot rename the temp file into place: " + ec.message());
  }
}

template <class T>
void write_npy(const std::filesystem::path& path, std::initializer_list<std::size_t> shape, std::span<const T> data) {
  write_npy<T>(path, std::span<const std::size_t>(shape.begin(), shape.size()), data);
}

}  // namespace statiq::io
