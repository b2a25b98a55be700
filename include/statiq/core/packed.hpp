// statiq/core/packed.hpp — fixed-size storage of quantized elements: one per byte, or packed
// 8/bits per byte (low bits first) where a target packs sub-byte weights.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "statiq/core/qint.hpp"

namespace statiq {

// N elements of type Q (a qint), packed when Packed and Q is narrower than a byte.
template <class Q, std::size_t N, bool Packed = (Q::bits < 8)>
class qarray {
 public:
  using element = Q;
  static constexpr std::size_t per_byte = Packed ? 8 / Q::bits : 1;
  static constexpr std::size_t byte_size = (N + per_byte - 1) / per_byte;

  static constexpr std::size_t size() { return N; }
  static constexpr bool packed() { return Packed && per_byte > 1; }

  constexpr int operator[](std::size_t i) const {
    if constexpr (per_byte == 1) {
      return static_cast<typename Q::storage>(bytes_[i]);
    } else {
      const unsigned raw = (bytes_[i / per_byte] >> ((i % per_byte) * Q::bits)) & mask;
      if constexpr (Q::is_signed) {
        return (raw & sign_bit) ? static_cast<int>(raw) - (1 << Q::bits) : static_cast<int>(raw);
      } else {
        return static_cast<int>(raw);
      }
    }
  }

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
  static constexpr unsigned sign_bit = 1u << (Q::bits - 1);
  std::array<std::uint8_t, byte_size> bytes_{};
};

}  // namespace statiq
