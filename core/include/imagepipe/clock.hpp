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
};

// Real time; sleeps are Asio timers on the calling coroutine's executor.
class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point steady_now() const override { return std::chrono::steady_clock::now(); }
  Task<void> sleep_for(std::chrono::milliseconds d) override;
};

}  // namespace imagepipe
