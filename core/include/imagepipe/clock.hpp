// Time as a host service, so backoff, rate limits and expiries can be tested on an
// injected clock with no sleeps.
#pragma once

#include <chrono>

#include "imagepipe/asio.hpp"

namespace imagepipe {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() const = 0;
  virtual std::chrono::steady_clock::time_point steady_now() const = 0;
  virtual Task<void> sleep_for(std::chrono::milliseconds d) = 0;
  // Wakes at an absolute time: many waiters for the same instant wake together, which a
  // virtual clock in tests must know (sleep_for alone would add their waits up).
  virtual Task<void> sleep_until(std::chrono::steady_clock::time_point t) {
    auto now = steady_now();
    if (t > now) co_await sleep_for(std::chrono::ceil<std::chrono::milliseconds>(t - now));
  }
};

// Real time; sleeps are Asio timers on the calling coroutine's executor.
class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point steady_now() const override { return std::chrono::steady_clock::now(); }
  Task<void> sleep_for(std::chrono::milliseconds d) override;
};

}  // namespace imagepipe
