// codegen/calib/zip_archive.hpp — a read-only ZIP reader (stored and deflate members, ZIP64 sizes,
// CRC-checked) for NumPy .npz files, which are ZIP archives of .npy members.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace statiq::codegen::calib {

class ZipArchive {
 public:
  struct Entry {
    std::string name;
    std::uint16_t method = 0;  // 0 stored, 8 deflate; others are refused by read()
    std::uint16_t flags = 0;
    std::uint32_t crc32 = 0;
    std::uint64_t compressed_size = 0;
    std::uint64_t size = 0;
    std::uint64_t local_header_offset = 0;
  };

  // Reads the whole file and its central directory. Throws naming the file for anything that is
  // not a well-formed ZIP archive (messages start with `what` + " file '<path>'", e.g. "npz").
  explicit ZipArchive(const std::filesystem::path& file, std::string what = "zip");

  const std::vector<Entry>& entries() const { return entries_; }
  // The member's bytes, inflated if needed and checked against its CRC-32 and size.
  std::string read(const Entry& entry) const;

 private:
  [[noreturn]] void fail(const std::string& msg) const;

  std::filesystem::path file_;
  std::string what_;
  std::string bytes_;
  std::vector<Entry> entries_;
};

}  // namespace statiq::codegen::calib
