// device/bsp/stdio.cpp — printf and its family for the boards, over semihosting, with no heap:
// newlib's stdio allocates its stream buffers with malloc, which the no-heap link refuses, so
// these definitions take the place of newlib's (the C library is searched after this object).
// Conversions: d i u o x X c s p % and a A (exact, so float results print without rounding), with
// flags, width, precision and the length modifiers hh h l ll j z t. f e g print a notice instead:
// decimal float formatting is not needed by statiq's programs; use %a.
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "semihosting.hpp"

namespace {

// Characters are collected and sent a line (or a full buffer) at a time: one semihosting call each.
class Console {
 public:
  void put(char c) {
    buffer_[size_++] = c;
    ++written_;
    if (c == '\n' || size_ == sizeof buffer_ - 1) flush();
  }
  void flush() {
    if (size_ == 0) return;
    buffer_[size_] = '\0';
    statiq::board::semihosting::write0(buffer_);
    size_ = 0;
  }
  int written() const { return written_; }

 private:
  char buffer_[128];
  std::size_t size_ = 0;
  int written_ = 0;
};

struct Spec {
  bool left = false, plus = false, space = false, alternate = false, zero = false;
  int width = 0;
  int precision = -1;
};

void pad(Console& out, int n, char c) {
  for (; n > 0; --n) out.put(c);
}

// One field: a prefix (sign, 0x), leading zeros from the precision, then the digits or text.
void field(Console& out, const Spec& s, const char* prefix, const char* body, int body_length, int zeros = 0) {
  const int prefix_length = static_cast<int>(std::strlen(prefix));
  const int length = prefix_length + zeros + body_length;
  if (!s.left && !s.zero) pad(out, s.width - length, ' ');
  for (const char* p = prefix; *p; ++p) out.put(*p);
  if (!s.left && s.zero) pad(out, s.width - length, '0');
  pad(out, zeros, '0');
  for (int i = 0; i < body_length; ++i) out.put(body[i]);
  if (s.left) pad(out, s.width - length, ' ');
}

void integer(Console& out, Spec s, std::uintmax_t magnitude, bool negative, unsigned base, bool upper,
             const char* base_prefix) {
  char digits[32];
  int n = 0;
  const char* alphabet = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  while (magnitude != 0) {
    digits[sizeof digits - 1 - n++] = alphabet[magnitude % base];
    magnitude /= base;
  }
  if (n == 0 && s.precision != 0) digits[sizeof digits - 1 - n++] = '0';
  const char* sign = negative ? "-" : s.plus ? "+" : s.space ? " " : "";
  char prefix[4] = {};
  std::strcat(prefix, sign);
  if (s.alternate && n > 0 && !(n == 1 && digits[sizeof digits - 1] == '0')) std::strcat(prefix, base_prefix);
  int zeros = 0;
  if (s.precision >= 0) {
    zeros = s.precision > n ? s.precision - n : 0;
    s.zero = false;
  }
  field(out, s, prefix, digits + sizeof digits - n, n, zeros);
}

// %a: the exact value in hexadecimal, as glibc prints it (0x1.8p+1, 0x0p+0, subnormals 0x0.xp-1022).
void hex_float(Console& out, Spec s, double value, bool upper) {
  std::uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  const bool negative = bits >> 63;
  const int biased = static_cast<int>((bits >> 52) & 0x7FF);
  std::uint64_t mantissa = bits & ((std::uint64_t{1} << 52) - 1);
  const char* sign = negative ? "-" : s.plus ? "+" : s.space ? " " : "";
  if (biased == 0x7FF) {
    s.zero = false;
    const char* text = mantissa != 0 ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf");
    field(out, s, sign, text, 3);
    return;
  }
  char body[40];
  int n = 0;
  const char* alphabet = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  body[n++] = biased == 0 ? '0' : '1';
  int exponent = biased == 0 ? (mantissa == 0 ? 0 : -1022) : biased - 1023;
  int digits = 13;  // 52 bits
  while (digits > 0 && (mantissa & 0xF) == 0) {
    mantissa >>= 4;
    --digits;
  }
  if (digits > 0 || s.alternate) body[n++] = '.';
  for (int i = digits - 1; i >= 0; --i) body[n++] = alphabet[(mantissa >> (4 * i)) & 0xF];
  body[n++] = upper ? 'P' : 'p';
  body[n++] = exponent < 0 ? '-' : '+';
  unsigned e = static_cast<unsigned>(exponent < 0 ? -exponent : exponent);
  char e_digits[8];
  int m = 0;
  do {
    e_digits[m++] = static_cast<char>('0' + e % 10);
    e /= 10;
  } while (e != 0);
  while (m > 0) body[n++] = e_digits[--m];
  char prefix[4] = {};
  std::strcat(prefix, sign);
  std::strcat(prefix, upper ? "0X" : "0x");
  field(out, s, prefix, body, n);
}

int format(Console& out, const char* f, std::va_list args) {
  for (; *f; ++f) {
    if (*f != '%') {
      out.put(*f);
      continue;
    }
    Spec s;
    for (;; ++f) {
      const char c = f[1];
      if (c == '-') s.left = true;
      else if (c == '+') s.plus = true;
      else if (c == ' ') s.space = true;
      else if (c == '#') s.alternate = true;
      else if (c == '0') s.zero = true;
      else break;
    }
    ++f;
    if (*f == '*') {
      s.width = va_arg(args, int);
      if (s.width < 0) {
        s.left = true;
        s.width = -s.width;
      }
      ++f;
    } else {
      while (*f >= '0' && *f <= '9') s.width = s.width * 10 + (*f++ - '0');
    }
    if (*f == '.') {
      ++f;
      s.precision = 0;
      if (*f == '*') {
        s.precision = va_arg(args, int);
        ++f;
      } else {
        while (*f >= '0' && *f <= '9') s.precision = s.precision * 10 + (*f++ - '0');
      }
    }
    if (s.left) s.zero = false;
    // Length: the size of the argument in bytes (0: int).
    int size = 0;
    if (f[0] == 'h' && f[1] == 'h') { size = 1; f += 2; }
    else if (*f == 'h') { size = 2; ++f; }
    else if (f[0] == 'l' && f[1] == 'l') { size = sizeof(long long); f += 2; }
    else if (*f == 'l') { size = sizeof(long); ++f; }
    else if (*f == 'j') { size = sizeof(std::intmax_t); ++f; }
    else if (*f == 'z') { size = sizeof(std::size_t); ++f; }
    else if (*f == 't') { size = sizeof(std::ptrdiff_t); ++f; }
    else if (*f == 'L') { ++f; }
    const char conversion = *f;
    switch (conversion) {
      case 'd':
      case 'i': {
        std::intmax_t v = size == sizeof(long long) && sizeof(long long) > sizeof(long) ? va_arg(args, long long)
                          : size == sizeof(long) && size > 0 ? va_arg(args, long)
                                                             : va_arg(args, int);
        if (size == 1) v = static_cast<signed char>(v);
        if (size == 2) v = static_cast<short>(v);
        const bool negative = v < 0;
        integer(out, s, negative ? std::uintmax_t(0) - std::uintmax_t(v) : std::uintmax_t(v), negative, 10, false, "");
        break;
      }
      case 'u':
      case 'o':
      case 'x':
      case 'X': {
        std::uintmax_t v = size == sizeof(long long) && sizeof(long long) > sizeof(long)
                               ? va_arg(args, unsigned long long)
                           : size == sizeof(long) && size > 0 ? va_arg(args, unsigned long)
                                                              : va_arg(args, unsigned);
        if (size == 1) v = static_cast<unsigned char>(v);
        if (size == 2) v = static_cast<unsigned short>(v);
        const unsigned base = conversion == 'u' ? 10 : conversion == 'o' ? 8 : 16;
        integer(out, s, v, false, base, conversion == 'X', conversion == 'o' ? "0" : conversion == 'X' ? "0X" : "0x");
        break;
      }
      case 'p': {
        s.alternate = true;
        integer(out, s, reinterpret_cast<std::uintptr_t>(va_arg(args, void*)), false, 16, false, "0x");
        break;
      }
      case 'c': {
        const char c = static_cast<char>(va_arg(args, int));
        s.zero = false;
        field(out, s, "", &c, 1);
        break;
      }
      case 's': {
        const char* text = va_arg(args, const char*);
        if (text == nullptr) text = "(null)";
        int n = 0;
        while (text[n] != '\0' && (s.precision < 0 || n < s.precision)) ++n;
        s.zero = false;
        field(out, s, "", text, n);
        break;
      }
      case 'a':
      case 'A': hex_float(out, s, va_arg(args, double), conversion == 'A'); break;
      case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': {
        (void)va_arg(args, double);
        const char notice[] = "<%f/%e/%g: not in the board's printf (device/bsp/stdio.cpp), use %a>";
        field(out, Spec{}, "", notice, sizeof notice - 1);
        break;
      }
      case '%': out.put('%'); break;
      case '\0': return out.written();  // a lone % at the end
      default: out.put('%'); out.put(conversion); break;
    }
  }
  return out.written();
}

int print(const char* f, std::va_list args) {
  Console out;
  const int n = format(out, f, args);
  out.flush();
  return n;
}

}  // namespace

// Every stream is the semihosting console (stdout and stderr alike).
extern "C" {

int vfprintf(std::FILE*, const char* f, std::va_list args) { return print(f, args); }
int vprintf(const char* f, std::va_list args) { return print(f, args); }
int fprintf(std::FILE*, const char* f, ...) {
  std::va_list args;
  va_start(args, f);
  const int n = print(f, args);
  va_end(args);
  return n;
}
int printf(const char* f, ...) {
  std::va_list args;
  va_start(args, f);
  const int n = print(f, args);
  va_end(args);
  return n;
}
int fputs(const char* text, std::FILE*) {
  statiq::board::semihosting::write0(text);
  return 0;
}
int puts(const char* text) {
  statiq::board::semihosting::write0(text);
  statiq::board::semihosting::write0("\n");
  return 0;
}
int fputc(int c, std::FILE*) {
  const char text[2] = {static_cast<char>(c), '\0'};
  statiq::board::semihosting::write0(text);
  return static_cast<unsigned char>(c);
}
int putchar(int c) {
  const char text[2] = {static_cast<char>(c), '\0'};
  statiq::board::semihosting::write0(text);
  return static_cast<unsigned char>(c);
}
int fflush(std::FILE*) { return 0; }

// A failed assert(): newlib's would print with its own (allocating) stdio. The message names the
// file, line and condition; the status is abort()'s.
[[noreturn]] void __assert_func(const char* file, int line, const char* function, const char* condition) {
  printf("assertion failed: %s, %s:%d (%s)\n", condition, file, line, function ? function : "?");
  statiq::board::semihosting::exit(134);
}
// GCC turns fprintf(stream, "text") into fwrite.
std::size_t fwrite(const void* data, std::size_t size, std::size_t count, std::FILE*) {
  Console out;
  const char* bytes = static_cast<const char*>(data);
  for (std::size_t i = 0; i < size * count; ++i) out.put(bytes[i]);
  out.flush();
  return count;
}

}  // extern "C"
