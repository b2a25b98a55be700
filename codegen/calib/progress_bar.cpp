// codegen/calib/progress_bar.cpp — terminal detection and drawing of ProgressBar.
#include "codegen/calib/progress_bar.hpp"

#include <algorithm>

#include <unistd.h>  // isatty

namespace statiq::codegen::calib {

namespace {
constexpr int bar_width = 30;
}

ProgressBar::ProgressBar(std::string label, std::int64_t total, Mode mode, std::FILE* stream)
    : label_(std::move(label)), total_(std::max<std::int64_t>(total, 0)), stream_(stream) {
  enabled_ = stream_ != nullptr && (mode == Mode::always || (mode == Mode::automatic && ::isatty(::fileno(stream_))));
  if (enabled_) draw();
}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::advance(std::int64_t steps) {
  done_ = std::min(done_ + steps, total_);
  if (!enabled_ || finished_) return;
  const std::int64_t permille = total_ ? done_ * 1000 / total_ : 1000;
  if (permille != last_drawn_permille_) draw();
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  if (!enabled_) return;
  draw();
  std::fputc('\n', stream_);
  std::fflush(stream_);
}

void ProgressBar::draw() {
  const std::int64_t permille = total_ ? done_ * 1000 / total_ : 1000;
  last_drawn_permille_ = permille;
  const auto filled = static_cast<int>(permille * bar_width / 1000);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.append(static_cast<std::size_t>(bar_width - filled), '.');
  // \r returns to the line start; the trailing spaces erase a longer previous line.
  std::fprintf(stream_, "\r%s [%s] %lld/%lld %3lld%%  ", label_.c_str(), bar.c_str(), static_cast<long long>(done_),
               static_cast<long long>(total_), static_cast<long long>(permille / 10));
  std::fflush(stream_);
}

}  // namespace statiq::codegen::calib
