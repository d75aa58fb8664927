#include "jobs/redis/redis_limits.hpp"

#include <unistd.h>

#include <random>

#include "imagepipe/threads.hpp"

namespace imagepipe::jobs::redis {

namespace {

constexpr std::chrono::milliseconds kInFlightRetry{50};

// ARGV: P key in_flight per_minute window_ms lease_ttl_ms lease retry_ms.
// Returns {1, 0} (granted) or {0, ms to wait}.
constexpr const char* kAcquire = R"lua(
local P, key = ARGV[1], ARGV[2]
local inflight, per_minute = tonumber(ARGV[3]), tonumber(ARGV[4])
local window, ttl, lease = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local base = P..'limit:'..key
local paused = redis.call('PTTL', base..':pause')
if paused > 0 then return {0, paused} end
local leases, starts = base..':leases', base..':starts'
if inflight > 0 then
  redis.call('ZREMRANGEBYSCORE', leases, '-inf', now)
  if redis.call('ZCARD', leases) >= inflight then return {0, tonumber(ARGV[8])} end
end
if per_minute > 0 then
  redis.call('ZREMRANGEBYSCORE', starts, '-inf', now - window)
  if redis.call('ZCARD', starts) >= per_minute then
    local oldest = redis.call('ZRANGE', starts, 0, 0, 'WITHSCORES')
    return {0, math.max(1, tonumber(oldest[2]) + window - now + 1)}
  end
  redis.call('ZADD', starts, now, lease)
  redis.call('PEXPIRE', starts, window * 2)
end
if inflight > 0 then
  redis.call('ZADD', leases, now + ttl, lease)
  redis.call('PEXPIRE', leases, ttl * 2)
end
return {1, 0}
)lua";

template <class R, class F>
Task<R> call(F& f) {
  co_return f();
}

}  // namespace

RedisLimits::RedisLimits(RedisLimitsOptions options)
    : options_(std::move(options)),
      redis_(parse_redis_url(options_.url), std::chrono::milliseconds(3000)) {
  // Lease names must differ across nodes: without a node id, this process' pid and a
  // random number.
  if (options_.node_id.empty())
    options_.node_id = std::to_string(::getpid()) + "-" +
                       std::to_string(std::mt19937_64{std::random_device{}()}());
  on_each_pool_thread(thread_, 1, [] { name_this_thread("imagepipe-limit"); });
}

RedisLimits::~RedisLimits() { thread_.join(); }

SharedLimits::Grant RedisLimits::acquire_now(const std::string& key, const RateLimit& limit) {
  const auto lease = options_.node_id + "#" + std::to_string(next_lease_++);
  auto r = redis_.must(
      {"EVAL", kAcquire, "0", options_.prefix, key, std::to_string(limit.max_in_flight),
       std::to_string(limit.requests_per_minute), std::to_string(options_.window.count()),
       std::to_string(options_.lease_ttl.count()), lease, std::to_string(kInFlightRetry.count())});
  Grant grant;
  grant.granted = reply_integer(reply_at(r.get(), 0)) == 1;
  grant.wait = std::chrono::milliseconds(reply_integer(reply_at(r.get(), 1)));
  if (grant.granted) grant.lease = lease;
  return grant;
}

Task<SharedLimits::Grant> RedisLimits::try_acquire(const std::string& key, const RateLimit& limit) {
  auto f = [this, &key, &limit] { return acquire_now(key, limit); };
  co_return co_await asio::co_spawn(thread_.get_executor(), call<Grant>(f), asio::use_awaitable);
}

void RedisLimits::release(const std::string& key, const std::string& lease) {
  asio::post(thread_, [this, key, lease] {
    try {
      redis_.call({"ZREM", options_.prefix + "limit:" + key + ":leases", lease});
    } catch (const std::exception&) {
      // Unreachable: the lease lapses by itself.
    }
  });
}

void RedisLimits::pause(const std::string& key, std::chrono::milliseconds d) {
  if (d.count() <= 0) return;
  asio::post(thread_, [this, key, d] {
    try {
      // A longer pause already set stays.
      auto base = options_.prefix + "limit:" + key + ":pause";
      auto left = redis_.call({"PTTL", base});
      if (reply_integer(left.get()) < d.count())
        redis_.call({"SET", base, "1", "PX", std::to_string(d.count())});
    } catch (const std::exception&) {
      // Unreachable: this node's own pause still holds.
    }
  });
}

}  // namespace imagepipe::jobs::redis
