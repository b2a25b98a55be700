// codegen/input/input_file.hpp — how statiq-codegen opens what it is given: only regular files
// (a FIFO or a device would block or never end), and nothing larger than the input limit, read
// or declared (an .npz member's size, an image's pixels, external data), before any allocation.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace statiq::codegen {

// The default limit of --max-input-bytes: 1 GiB per file, per declared member or tensor, per
// decoded image. Calibration sets of a few hundred ImageNet images stay far below it.
inline constexpr std::uint64_t default_max_input_bytes = std::uint64_t{1} << 30;

// The limit of this run (main sets it from --max-input-bytes before any input is read).
std::uint64_t max_input_bytes();
void set_max_input_bytes(std::uint64_t bytes);

// The size of `path`; throws, naming `what` (e.g. "model", "npz file") and the path, unless it is
// a regular file (after symbolic links) of at most max_input_bytes().
std::uint64_t check_input_file(const std::filesystem::path& path, std::string_view what);

// check_input_file, then the whole file.
std::string read_input_file(const std::filesystem::path& path, std::string_view what);

// Throws "<where> declares <bytes> bytes, over the limit ..." when `bytes` (a size taken from a
// file, already computed without overflow) exceeds max_input_bytes().
void check_declared_bytes(std::uint64_t bytes, std::string_view where);

// a + b and a * b of sizes taken from files; false when the result does not fit (no wrap-around).
inline bool add_fits(std::uint64_t a, std::uint64_t b, std::uint64_t& sum) { return !__builtin_add_overflow(a, b, &sum); }
inline bool mul_fits(std::uint64_t a, std::uint64_t b, std::uint64_t& product) {
  return !__builtin_mul_overflow(a, b, &product);
}

// True when [offset, offset + length) lies inside a buffer of `size` bytes, computed without overflow.
inline bool range_inside(std::uint64_t offset, std::uint64_t length, std::uint64_t size) {
  return offset <= size && length <= size - offset;
}

}  // namespace statiq::codegen
