// codegen/input/input_file.cpp — see input_file.hpp.
#include "codegen/input/input_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "codegen/emit/cpp_escape.hpp"

namespace statiq::codegen {

namespace {

// A process-wide setting like a ulimit: every reader consults it, none is handed it.
std::uint64_t limit = default_max_input_bytes;

std::string limit_advice() {
  return "raise --max-input-bytes (now " + std::to_string(limit) + ") if the input is genuine";
}

}  // namespace

std::uint64_t max_input_bytes() { return limit; }
void set_max_input_bytes(std::uint64_t bytes) { limit = bytes; }

std::uint64_t check_input_file(const std::filesystem::path& path, std::string_view what) {
  namespace fs = std::filesystem;
  const std::string who = std::string(what) + " '" + printable(path.string()) + "'";
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st))
    throw std::runtime_error(who + ": cannot open: " +
                             (ec && ec != std::errc::no_such_file_or_directory ? ec.message() : "no such file") +
                             "; check the path");
  if (fs::is_directory(st)) throw std::runtime_error(who + " is a folder; give a file");
  if (!fs::is_regular_file(st))
    throw std::runtime_error(who + " is not a regular file (a FIFO, socket or device); copy the data to a file");
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) throw std::runtime_error(who + ": cannot read its size (" + ec.message() + ")");
  if (size > limit)
    throw std::runtime_error(who + " is " + std::to_string(size) + " bytes, over the input limit; " + limit_advice());
  return size;
}

std::string read_input_file(const std::filesystem::path& path, std::string_view what) {
  const std::uint64_t size = check_input_file(path, what);
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error(std::string(what) + " '" + printable(path.string()) + "': cannot open for reading (" +
                             std::strerror(errno) + ")");
  std::string bytes(static_cast<std::size_t>(size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  // a file that shrank while being read; one that grew is read as far as it was
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  return bytes;
}

void check_declared_bytes(std::uint64_t bytes, std::string_view where) {
  if (bytes > limit)
    throw std::runtime_error(std::string(where) + " declares " + std::to_string(bytes) +
                             " bytes, over the input limit (corrupt or hostile?); " + limit_advice());
}

}  // namespace statiq::codegen
