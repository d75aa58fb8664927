// Provider limits held across processes. A provider entry's `limit: {in_flight,
// per_minute}` and its 429 pauses are per process by default (provider_gate in the
// engine); a host running several processes against one provider account installs an
// implementation here (the daemon's, over Redis, when it shares a queue), and every gate
// built after that asks it too. The engine knows only this interface.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "imagepipe/asio.hpp"
#include "imagepipe/pipeline.hpp"

namespace imagepipe {

class SharedLimits {
 public:
  virtual ~SharedLimits() = default;

  struct Grant {
    bool granted = false;
    std::chrono::milliseconds wait{0};  // not granted: when to ask again
    std::string lease;                  // granted: give it back to release()
  };
  // A start of one request for the entry named `key` (the same on every process serving
  // the pipeline), under `limit`. Throws when the shared state cannot be reached; the
  // gate then holds to its own process' limits.
  virtual Task<Grant> try_acquire(const std::string& key, const RateLimit& limit) = 0;
  // The request ended. Does not wait.
  virtual void release(const std::string& key, const std::string& lease) = 0;
  // Every process waits at least `d` before its next request to `key`. Does not wait.
  virtual void pause(const std::string& key, std::chrono::milliseconds d) = 0;
};

// Process-wide: set before pipelines are built (nullptr: per-process limits only).
void set_shared_limits(std::shared_ptr<SharedLimits> limits);
std::shared_ptr<SharedLimits> shared_limits();

}  // namespace imagepipe
