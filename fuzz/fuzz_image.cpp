// fuzz/fuzz_image.cpp — a PNG/JPEG from arbitrary bytes through load_image (the header's size
// checked against the input limit, then stb_image) and the preprocessing to a 1x3x32x32 input.
#include <cstddef>
#include <cstdint>
#include <exception>

#include "codegen/calib/image_preprocessing.hpp"
#include "fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = statiq::fuzz::write_input(data, size, ".png");
  try {
    const statiq::codegen::calib::Image8 image = statiq::codegen::calib::load_image(file);
    (void)statiq::codegen::calib::preprocess_image(image, {1, 3, 32, 32}, {}, file.string());
  } catch (const std::exception&) {
  }
  return 0;
}
