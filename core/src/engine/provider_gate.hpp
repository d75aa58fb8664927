// A process-wide gate in front of one provider entry: at most N requests in flight and M
// started per minute, and a shared pause after a 429 so the whole provider slows down
// instead of every item retrying on its own.
//
// acquire() must be awaited from a strand (every job runs on one): a waiter's timer is
// cancelled through its own executor, which is only race-free when that executor is
// serialised.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>

#include "imagepipe/clock.hpp"
#include "imagepipe/pipeline.hpp"

namespace imagepipe {

class ProviderGate {
 public:
  ProviderGate(RateLimit limit, Clock& clock) : limit_(limit), clock_(clock) {}

  Task<void> acquire();
  void release();
  // Every caller waits at least until now + d before its next request.
  void pause_for(std::chrono::milliseconds d);

  int in_flight() const {
    std::lock_guard lock(mu_);
    return in_flight_;
  }

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  RateLimit limit_;
  Clock& clock_;
  mutable std::mutex mu_;
  int in_flight_ = 0;
  std::deque<TimePoint> starts_;  // request starts within the last minute
  TimePoint paused_until_{};
  std::deque<std::shared_ptr<asio::steady_timer>> waiters_;
};

}  // namespace imagepipe
