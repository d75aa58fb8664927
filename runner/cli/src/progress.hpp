// A one-line progress bar on a terminal's stderr; silent when stderr is not a terminal.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <string>

namespace imagepipe::runner {

class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled && ::isatty(STDERR_FILENO)) {}
  ~ProgressBar() { finish(); }

  void update(std::size_t done, std::size_t total, std::size_t failed) {
    if (!enabled_ || total < 2) return;
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(kWidth * done / total);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(kWidth, '.');
    std::fprintf(stderr, "\r[%s] %zu/%zu items%s", bar.c_str(), done, total,
                 failed ? (", " + std::to_string(failed) + " failed").c_str() : "");
    std::fflush(stderr);
    drawn_ = true;
  }
  void finish() {
    if (drawn_) std::fputs("\r\033[K", stderr);
    drawn_ = false;
  }

 private:
  bool enabled_;
  bool drawn_ = false;
};

}  // namespace imagepipe::runner
