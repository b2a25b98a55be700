// statiq/core/packed.hpp — fixed-size storage of quantized elements: one per byte, or packed
// 8/bits per byte (low bits first) where a target packs sub-byte weights.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "statiq/core/qint.hpp"
#include "statiq/core/weight_layout.hpp"

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

template <class Q, std::size_t N, bool Packed = (Q::bits < 8), WeightLayout Layout = row_major_layout>
inline constexpr std::size_t qbytes =
    (Layout.stored(N) + elements_per_byte<Q, Packed> - 1) / elements_per_byte<Q, Packed>;

// The bytes of a weight tensor stored in Layout, as the generated data translation unit defines
// them: a string literal (its terminating NUL is not data) in a type that names the layout, so
// weights written in one order cannot be read in another (that does not compile).
template <WeightLayout Layout, std::size_t Bytes>
struct weight_bytes {
  char bytes[Bytes + 1];
};

// N elements of type Q (a qint), packed when Packed and Q is narrower than a byte, stored in
// Layout (indices are always logical: element i of the OHWI / [units][inputs] order).
template <class Q, std::size_t N, bool Packed = (Q::bits < 8), WeightLayout Layout = row_major_layout>
class qarray {
 public:
  using element = Q;
  static constexpr std::size_t per_byte = elements_per_byte<Q, Packed>;
  static constexpr std::size_t byte_size = qbytes<Q, N, Packed, Layout>;
  static constexpr WeightLayout layout = Layout;

  static constexpr std::size_t size() { return N; }
  static constexpr bool packed() { return Packed && per_byte > 1; }

  constexpr int operator[](std::size_t i) const {
    return detail::unpack<Q, per_byte>(bytes_.data(), Layout.index(i));
  }

  // Stores v, which must already lie in [Q::min, Q::max].
  constexpr void set(std::size_t logical, int v) {
    const std::size_t i = Layout.index(logical);
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
// unit) in Layout. Built from bytes whose size (and, unless row-major, layout) is part of their
// type, so a size or layout mismatch does not compile.
template <class Q, std::size_t N, bool Packed = (Q::bits < 8), WeightLayout Layout = row_major_layout>
class qview {
 public:
  using element = Q;
  static constexpr std::size_t per_byte = elements_per_byte<Q, Packed>;
  static constexpr std::size_t byte_size = qbytes<Q, N, Packed, Layout>;
  static constexpr WeightLayout layout = Layout;

  constexpr qview() = default;
  constexpr qview(const std::uint8_t (&bytes)[byte_size])  // NOLINT: implicit by design
    requires(Layout.order == WeightOrder::row_major)
      : bytes_(bytes) {}
  qview(const char (&literal)[byte_size + 1])  // a string literal: its terminating NUL is not data
    requires(Layout.order == WeightOrder::row_major)
      : bytes_(reinterpret_cast<const std::uint8_t*>(literal)) {}
  qview(const weight_bytes<Layout, byte_size>& w)  // NOLINT: the generated data's form
      : bytes_(reinterpret_cast<const std::uint8_t*>(w.bytes)) {}
  constexpr qview(const qarray<Q, N, Packed, Layout>& a) : bytes_(a.bytes()) {}  // NOLINT

  static constexpr std::size_t size() { return N; }
  constexpr int operator[](std::size_t i) const { return detail::unpack<Q, per_byte>(bytes_, Layout.index(i)); }
  constexpr const std::uint8_t* bytes() const { return bytes_; }

 private:
  const std::uint8_t* bytes_ = nullptr;
};

// Weights of one byte each whose layout is known only at run time (statiq-codegen's simulation):
// indexed logically like qview, with the bytes and the layout the fast kernels read.
template <class Q>
struct weight_view {
  const std::uint8_t* data = nullptr;
  WeightLayout layout{};

  constexpr int operator[](std::size_t i) const { return static_cast<typename Q::storage>(data[layout.index(i)]); }
  constexpr const std::uint8_t* bytes() const { return data; }
};

// Writes `count` logical weights (src[i], already in range) into dst, which holds
// layout.stored(count) bytes, in `layout`; the padding is zero.
template <class Src>
constexpr void lay_out_weights(const WeightLayout& layout, const Src& src, std::size_t count, std::uint8_t* dst) {
  for (std::size_t i = 0, n = layout.stored(count); i < n; ++i) dst[i] = 0;
  for (std::size_t i = 0; i < count; ++i)
    dst[layout.index(i)] = static_cast<std::uint8_t>(static_cast<std::int32_t>(src[i]) & 0xff);
}

}  // namespace statiq
