// codegen/calib/progress_bar.hpp — a one-line progress bar for long loops (calibration): drawn on
// stderr only when stderr is a terminal, so CI logs and redirected output stay clean.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace statiq::codegen::calib {

class ProgressBar {
 public:
  enum class Mode {
    automatic,  // draw iff the stream is a terminal (isatty)
    never,
    always,  // for tests: draw into any stream
  };

  // `total` steps; `label` prefixes the line ("calibrating").
  ProgressBar(std::string label, std::int64_t total, Mode mode = Mode::automatic, std::FILE* stream = stderr);
  ~ProgressBar();  // finish()
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  bool enabled() const { return enabled_; }
  std::int64_t done() const { return done_; }
  // Adds `steps`; redraws only when the drawn line would change (the bar, the percentage or, at
  // most every 1/1000th, the counter), so a fast loop does not flood the terminal.
  void advance(std::int64_t steps = 1);
  // Draws the final state and ends the line (once).
  void finish();

 private:
  void draw();

  std::string label_;
  std::int64_t total_;
  std::int64_t done_ = 0;
  std::int64_t last_drawn_permille_ = -1;
  bool enabled_;
  bool finished_ = false;
  std::FILE* stream_;
};

}  // namespace statiq::codegen::calib
