// statiq/core/qint.hpp — quantized integer element types of 1, 2, 4 and 8 bits, signed or
// unsigned: their range and the byte type that holds one unpacked element.
#pragma once

#include <cstdint>
#include <type_traits>

namespace statiq {

template <int Bits, bool Signed>
struct qint {
  static_assert(Bits == 1 || Bits == 2 || Bits == 4 || Bits == 8,
                "statiq: quantized element types are 1, 2, 4 or 8 bits wide");
  static constexpr int bits = Bits;
  static constexpr bool is_signed = Signed;
  // A signed b-bit value has b-1 value bits; an unsigned one b (QuantizeML's value_bits).
  static constexpr int value_bits = Signed ? Bits - 1 : Bits;
  static constexpr int min = Signed ? -(1 << (Bits - 1)) : 0;
  static constexpr int max = Signed ? (1 << (Bits - 1)) - 1 : (1 << Bits) - 1;
  using storage = std::conditional_t<Signed, std::int8_t, std::uint8_t>;
};

using int8 = qint<8, true>;
using uint8 = qint<8, false>;
using int4 = qint<4, true>;
using uint4 = qint<4, false>;
using int2 = qint<2, true>;
using uint2 = qint<2, false>;
using int1 = qint<1, true>;
using uint1 = qint<1, false>;

template <class T>
inline constexpr bool is_qint = false;
template <int B, bool S>
inline constexpr bool is_qint<qint<B, S>> = true;

// Range of a b-bit integer (signed or not), for checks that only have the numbers.
constexpr int qmin(int bits, bool is_signed) { return is_signed ? -(1 << (bits - 1)) : 0; }
constexpr int qmax(int bits, bool is_signed) { return is_signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1; }

}  // namespace statiq
