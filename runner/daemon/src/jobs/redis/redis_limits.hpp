// Provider limits across every node on one Redis (SharedLimits, installed by the daemon
// when it has a Redis queue). One script per request start, atomic in Redis and timed by
// Redis' clock, so nodes with skewed clocks still agree:
//   per_minute: a log of starts in a sorted set; a start is granted while fewer than
//               per_minute starts are in the last window (60 s), so no 60-second window
//               ever holds more (not an average, as a token bucket would allow).
//   in_flight:  leases in a sorted set scored by their expiry; a dead node's leases lapse
//               after lease_ttl instead of holding the slot for ever.
//   429:        a key with a PX expiry that every node's next start waits out.
#pragma once

#include <atomic>
#include <chrono>

#include <boost/asio/thread_pool.hpp>

#include "imagepipe/shared_limits.hpp"
#include "jobs/redis/redis_connection.hpp"

namespace imagepipe::jobs::redis {

struct RedisLimitsOptions {
  std::string url;
  std::string prefix = "imagepipe:";
  // The per_minute window: 60 s, shorter in tests (queue_limit_window_ms).
  std::chrono::milliseconds window{std::chrono::minutes(1)};
  std::string node_id;  // names leases, for an operator reading Redis
  // An in_flight lease outlives any provider call's timeout; it only lapses when its node
  // died without giving it back.
  std::chrono::milliseconds lease_ttl{std::chrono::minutes(5)};
};

class RedisLimits final : public SharedLimits {
 public:
  explicit RedisLimits(RedisLimitsOptions options);
  ~RedisLimits() override;

  Task<Grant> try_acquire(const std::string& key, const RateLimit& limit) override;
  void release(const std::string& key, const std::string& lease) override;
  void pause(const std::string& key, std::chrono::milliseconds d) override;

 private:
  Grant acquire_now(const std::string& key, const RateLimit& limit);

  RedisLimitsOptions options_;
  Connection redis_;  // used on thread_ only
  std::atomic<std::uint64_t> next_lease_{0};
  asio::thread_pool thread_{1};
};

}  // namespace imagepipe::jobs::redis
