// codegen/calib/zip_archive.cpp — ZIP central directory parsing (PKWARE APPNOTE 6.3: end of central
// directory, ZIP64 end record and extra field 0x0001) and member extraction with zlib.
#include "codegen/calib/zip_archive.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <limits>
#include <stdexcept>

#include <zlib.h>

#include "codegen/emit/cpp_escape.hpp"
#include "codegen/input/input_file.hpp"

namespace statiq::codegen::calib {

namespace {

constexpr std::uint32_t sig_local = 0x04034b50;
constexpr std::uint32_t sig_central = 0x02014b50;
constexpr std::uint32_t sig_end = 0x06054b50;
constexpr std::uint32_t sig_zip64_end = 0x06064b50;
constexpr std::uint32_t sig_zip64_locator = 0x07064b50;

}  // namespace

void ZipArchive::fail(const std::string& msg) const {
  throw std::runtime_error(what_ + " file '" + printable(file_.string()) + "': " + msg);
}

ZipArchive::ZipArchive(const std::filesystem::path& file, std::string what) : file_(file), what_(std::move(what)) {
  bytes_ = read_input_file(file, what_ + " file");

  // Little-endian field readers that refuse to read past the end of the file. Offsets come from
  // the file (64-bit in ZIP64): every bound is checked by range_inside, which cannot wrap around.
  auto u = [this](std::uint64_t at, int size) -> std::uint64_t {
    if (!range_inside(at, static_cast<std::uint64_t>(size), bytes_.size()))
      fail("truncated or corrupt (a header runs past the end of the file)");
    std::uint64_t v = 0;
    for (int i = 0; i < size; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes_[at + i])) << (8 * i);
    return v;
  };

  // The end-of-central-directory record is the last 22 bytes plus a comment of up to 65535 bytes.
  if (bytes_.size() < 22) fail("too short to be a ZIP archive (is it an .npz written by numpy.savez?)");
  std::uint64_t end = std::numeric_limits<std::uint64_t>::max();
  const std::uint64_t lowest = bytes_.size() >= 22 + 65535 ? bytes_.size() - 22 - 65535 : 0;
  for (std::uint64_t at = bytes_.size() - 22 + 1; at-- > lowest;)
    if (u(at, 4) == sig_end) {
      end = at;
      break;
    }
  if (end == std::numeric_limits<std::uint64_t>::max())
    fail("no ZIP end-of-central-directory record (not a ZIP/.npz archive, or truncated)");

  std::uint64_t count = u(end + 10, 2);
  std::uint64_t cd_size = u(end + 12, 4);
  std::uint64_t cd_offset = u(end + 16, 4);
  if (count == 0xffff || cd_size == 0xffffffff || cd_offset == 0xffffffff) {
    if (end < 20 || u(end - 20, 4) != sig_zip64_locator) fail("ZIP64 fields without a ZIP64 locator (corrupt)");
    const std::uint64_t rec = u(end - 20 + 8, 8);
    if (u(rec, 4) != sig_zip64_end) fail("ZIP64 end record not where its locator says (corrupt)");
    count = u(rec + 32, 8);
    cd_size = u(rec + 40, 8);
    cd_offset = u(rec + 48, 8);
  }
  if (!range_inside(cd_offset, cd_size, bytes_.size()))
    fail("central directory runs past the end of the file (truncated)");

  std::uint64_t at = cd_offset;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (u(at, 4) != sig_central) fail("corrupt central directory (entry " + std::to_string(i) + ")");
    Entry e;
    e.flags = static_cast<std::uint16_t>(u(at + 8, 2));
    e.method = static_cast<std::uint16_t>(u(at + 10, 2));
    e.crc32 = static_cast<std::uint32_t>(u(at + 16, 4));
    e.compressed_size = u(at + 20, 4);
    e.size = u(at + 24, 4);
    const std::uint64_t name_len = u(at + 28, 2), extra_len = u(at + 30, 2), comment_len = u(at + 32, 2);
    e.local_header_offset = u(at + 42, 4);
    if (!range_inside(at, 46 + name_len + extra_len, bytes_.size())) fail("truncated central directory");
    e.name = bytes_.substr(at + 46, name_len);
    // ZIP64 extra field: 8-byte values, present only for the fields saturated at 0xffffffff, in
    // the order size, compressed size, local header offset.
    const std::uint64_t extra_end = at + 46 + name_len + extra_len;
    for (std::uint64_t x = at + 46 + name_len; x + 4 <= extra_end;) {
      const std::uint64_t id = u(x, 2), len = u(x + 2, 2);
      if (x + 4 + len > extra_end) fail("member '" + display_name(e.name) + "': extra field runs past its entry (corrupt)");
      if (id == 0x0001) {
        std::uint64_t p = x + 4;
        // each 8-byte value must lie inside this field, not in the next one
        auto next = [&] {
          if (p + 8 > x + 4 + len) fail("member '" + display_name(e.name) + "': short ZIP64 extra field (corrupt)");
          const std::uint64_t v = u(p, 8);
          p += 8;
          return v;
        };
        if (e.size == 0xffffffff) e.size = next();
        if (e.compressed_size == 0xffffffff) e.compressed_size = next();
        if (e.local_header_offset == 0xffffffff) e.local_header_offset = next();
      }
      x += 4 + len;
    }
    entries_.push_back(std::move(e));
    at += 46 + name_len + extra_len + comment_len;
  }
}

std::string ZipArchive::read(const Entry& e) const {
  const std::string member = "member '" + display_name(e.name) + "'";
  if (e.flags & 0x1) fail(member + " is encrypted");
  // the declared size is what would be allocated: capped before anything is inflated
  check_declared_bytes(e.size, what_ + " file '" + printable(file_.string()) + "' " + member);
  const std::uint64_t at = e.local_header_offset;
  if (!range_inside(at, 30, bytes_.size())) fail(member + ": local header past the end of the file (truncated)");
  auto u16 = [this](std::uint64_t p) {
    return static_cast<std::uint64_t>(static_cast<unsigned char>(bytes_[p])) |
           static_cast<std::uint64_t>(static_cast<unsigned char>(bytes_[p + 1])) << 8;
  };
  const std::uint64_t sig = u16(at) | u16(at + 2) << 16;
  if (sig != sig_local) fail(member + ": bad local header (corrupt)");
  // The local header's own name/extra lengths (its extra field may differ from the central one).
  const std::uint64_t data = at + 30 + u16(at + 26) + u16(at + 28);
  if (!range_inside(data, e.compressed_size, bytes_.size())) fail(member + " runs past the end of the file (truncated)");

  std::string out;
  if (e.method == 0) {
    if (e.compressed_size != e.size) fail("stored " + member + " has different stored and real sizes (corrupt)");
    out = bytes_.substr(data, e.size);
  } else if (e.method == 8) {
    out.resize(e.size);
    z_stream zs{};
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) fail("zlib inflateInit2 failed");
    // Fed in chunks: zlib's avail_in/avail_out are 32-bit.
    std::uint64_t in_done = 0, out_done = 0;
    int rc = Z_OK;
    while (rc == Z_OK) {
      const auto in_chunk = static_cast<uInt>(std::min<std::uint64_t>(e.compressed_size - in_done, 1u << 30));
      const auto out_chunk = static_cast<uInt>(std::min<std::uint64_t>(e.size - out_done, 1u << 30));
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes_.data() + data + in_done));
      zs.avail_in = in_chunk;
      zs.next_out = reinterpret_cast<Bytef*>(out.data() + out_done);
      zs.avail_out = out_chunk;
      rc = inflate(&zs, Z_NO_FLUSH);
      in_done += in_chunk - zs.avail_in;
      out_done += out_chunk - zs.avail_out;
      if (rc == Z_OK && zs.avail_in == in_chunk && zs.avail_out == out_chunk) rc = Z_DATA_ERROR;  // no progress
    }
    const std::string zmsg = zs.msg ? zs.msg : "code " + std::to_string(rc);
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || out_done != e.size)
      fail(member + ": corrupt deflate data or a size that does not match it (zlib: " + zmsg + ")");
  } else {
    fail(member + " uses ZIP compression method " + std::to_string(e.method) +
         "; only stored (numpy.savez) and deflate (numpy.savez_compressed) are supported");
  }
  std::uint64_t crc = ::crc32(0L, Z_NULL, 0);
  for (std::uint64_t done = 0; done < out.size();) {
    const auto chunk = static_cast<uInt>(std::min<std::uint64_t>(out.size() - done, 1u << 30));
    crc = ::crc32(crc, reinterpret_cast<const Bytef*>(out.data() + done), chunk);
    done += chunk;
  }
  if (crc != e.crc32) fail(member + " fails its CRC-32 check (corrupt)");
  return out;
}

}  // namespace statiq::codegen::calib
