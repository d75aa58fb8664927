// A Clock for tests: sleeps return at once and move time forward to the wake-up point, so
// backoff, rate limits and expiries are measured in virtual time with no real waiting.
#pragma once

#include <chrono>
#include <mutex>
#include <vector>

#include "imagepipe/clock.hpp"

namespace imagepipe::testing {

class VirtualClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override;
  std::chrono::steady_clock::time_point steady_now() const override;
  Task<void> sleep_for(std::chrono::milliseconds d) override;
  Task<void> sleep_until(std::chrono::steady_clock::time_point t) override;

  // Moves time forward without anybody sleeping (an expiry in the future comes due).
  void advance(std::chrono::milliseconds d);
  std::chrono::milliseconds elapsed() const;  // virtual time since construction
  std::vector<std::chrono::milliseconds> sleeps() const;

 private:
  mutable std::mutex mu_;
  std::chrono::milliseconds offset_{0};
  std::vector<std::chrono::milliseconds> sleeps_;
  const std::chrono::steady_clock::time_point steady_base_ = std::chrono::steady_clock::now();
  const std::chrono::system_clock::time_point system_base_ = std::chrono::system_clock::now();
};

}  // namespace imagepipe::testing
