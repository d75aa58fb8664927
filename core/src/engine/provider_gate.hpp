// A process-wide gate in front of one provider entry: at most N requests in flight and M
// started per minute, and a shared pause after a 429 so the whole provider slows down
// instead of every item retrying on its own. With SharedLimits installed (several
// processes on one account), the per-minute count and the pauses are the shared ones, and
// in_flight holds both here and across processes.
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
#include "imagepipe/shared_limits.hpp"

namespace imagepipe {

class ProviderGate {
 public:
  // `key` names the entry the same way in every process (pipeline, step, entry).
  ProviderGate(RateLimit limit, Clock& clock, std::string key = {})
      : limit_(limit), clock_(clock), key_(std::move(key)), shared_(shared_limits()) {
    if (!limit_.max_in_flight && !limit_.requests_per_minute) shared_.reset();
  }

  // Returns the shared lease to pass to release() ("" without shared limits).
  Task<std::string> acquire();
  void release(const std::string& lease = {});
  // Every caller waits at least until now + d before its next request.
  void pause_for(std::chrono::milliseconds d);

  int in_flight() const {
    std::lock_guard lock(mu_);
    return in_flight_;
  }

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  Task<void> acquire_here();
  Task<std::string> acquire_shared();

  RateLimit limit_;
  Clock& clock_;
  std::string key_;
  std::shared_ptr<SharedLimits> shared_;
  mutable std::mutex mu_;
  int in_flight_ = 0;
  std::deque<TimePoint> starts_;  // request starts within the last minute
  TimePoint paused_until_{};
  std::deque<std::shared_ptr<asio::steady_timer>> waiters_;
};

}  // namespace imagepipe
