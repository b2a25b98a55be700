// statiq/core/packed.hpp — fixed-size storage of quantized elements: one per byte, or packed
// 8/bits per byte (low bits first) where a target packs sub-byte weights.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "statiq/core/qint.hpp"

namespace statiq {

namespace detail {
// Element i of a run of Q values stored per_byte to a byte, low bits first.
template <class Q, std::size_t PerByte>
constexpr int unpack(const std::uint8_t* bytes, std::size_t i) {
  if constexpr (PerByte == 1) {
    return static_cast<typename Q::storage>(bytes[i]);
  } else {
    constexpr unsigned mask = (1u << Q::bits) - 1u;
    const unsigned raw = (bytes[i / PerByte] >> ((i % PerByte) * Q::bits)) & mask;
    if constexpr (Q::is_signed) {
      return (raw & (1u << (Q::bits - 1))) ? static_cast<int>(raw) - (1 << Q::bits) : static_cast<int>(raw);
    } else {
      return static_cast<int>(raw);
    }
  }
}
}  // namespace detail

template <class Q, bool Packed>
inline constexpr std::size_t elements_per_byte = (Packed && Q::bits < 8) ? 8 / Q::bits : 1;

template <class Q, std::size_t N, bool Packed = (Q::bits < 8)>
inline constexpr std::size_t qbytes = (N + elements_per_byte<Q, Packed> - 1) / elements_per_byte<Q, Packed>;

// N elements of type Q (a qint), packed when Packed and Q is narrower than a byte.
template <class Q, std::size_t N, bool Packed = (Q::bits < 8)>
class qarray {
 public:
  using element = Q;
  static constexpr std::size_t per_byte = elements_per_byte<Q, Packed>;
  static constexpr std::size_t byte_size = qbytes<Q, N, Packed>;

  static constexpr std::size_t size() { return N; }
  static constexpr bool packed() { return Packed && per_byte > 1; }

  constexpr int operator[](std::size_t i) const { return detail::unpack<Q, per_byte>(bytes_.data(), i); }

  // Stores v, which must already lie in [Q::min, Q::max].
  constexpr void set(std::size_t i, int v) {
    if constexpr (per_byte == 1) {
      bytes_[i] = static_cast<std::uint8_t>(static_cast<typename Q::storage>(v));
    } else {
      const unsigned shift = (i % per_byte) * Q::bits;
      auto& b = bytes_[i / per_byte];
      b = static_cast<std::uint8_t>((b & ~(mask << shift)) | ((static_cast<unsigned>(v) & mask) << shift));
    }
  }

  constexpr const std::uint8_t* bytes() const { return bytes_.data(); }
  constexpr std::uint8_t* bytes() { return bytes_.data(); }

 private:
  static constexpr unsigned mask = (1u << Q::bits) - 1u;
  std::array<std::uint8_t, byte_size> bytes_{};
};

// A read-only view of N elements of Q stored elsewhere (weights in a generated data translation
// unit). Built from a byte array whose size is part of its type, so a size mismatch does not compile.
template <class Q, std::size_t N, bool Packed = (Q::bits < 8)>
class qview {
 public:
  using element = Q;
  static constexpr std::size_t per_byte = elements_per_byte<Q, Packed>;
  static constexpr std::size_t byte_size = qbytes<Q, N, Packed>;

  constexpr qview() = default;
  constexpr qview(const std::uint8_t (&bytes)[byte_size]) : bytes_(bytes) {}  // NOLINT: implicit by design
  qview(const char (&literal)[byte_size + 1])  // a string literal: its terminating NUL is not data
      : bytes_(reinterpret_cast<const std::uint8_t*>(literal)) {}
  constexpr qview(const qarray<Q, N, Packed>& a) : bytes_(a.bytes()) {}  // NOLINT

  static constexpr std::size_t size() { return N; }
  constexpr int operator[](std::size_t i) const { return detail::unpack<Q, per_byte>(bytes_, i); }
  constexpr const std::uint8_t* bytes() const { return bytes_; }

 private:
  const std::uint8_t* bytes_ = nullptr;
};

}  // namespace statiq
