// Provider limits shared through Redis, against a real redis-server: two RedisLimits are
// two nodes.
#include <gmock/gmock.h>

#include "jobs/redis/redis_limits.hpp"
#include "store_fixture.hpp"
#include "support/processes.hpp"

namespace imagepipe::testing {
namespace {

using namespace std::chrono_literals;
using jobs::redis::RedisLimits;
using jobs::redis::RedisLimitsOptions;

class RedisLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (find_on_path("redis-server").empty())
      GTEST_SKIP() << "redis-server is not installed (scripts/setup.sh installs it)";
    redis_ = std::make_unique<RedisProcess>();
  }
  std::unique_ptr<RedisLimits> node(std::chrono::milliseconds window = 60s,
                                    std::chrono::milliseconds ttl = 5min) {
    return std::make_unique<RedisLimits>(
        RedisLimitsOptions{.url = redis_->url(), .window = window, .lease_ttl = ttl});
  }
  SharedLimits::Grant take(RedisLimits& limits, RateLimit limit) {
    return run_task(io_, limits.try_acquire("p/edit/0/0/openai", limit));
  }

  asio::io_context io_;
  std::unique_ptr<RedisProcess> redis_;
};

TEST_F(RedisLimitsTest, InFlightHoldsAcrossNodesAndADeadNodesLeasesLapse) {
  auto a = node(60s, 400ms), b = node(60s, 400ms);
  const RateLimit two{.max_in_flight = 2};
  auto first = take(*a, two);
  ASSERT_TRUE(first.granted);
  {
    auto dying = node(60s, 400ms);
    ASSERT_TRUE(take(*dying, two).granted);  // never released: its node dies
  }
  auto refused = take(*b, two);
  EXPECT_FALSE(refused.granted);
  EXPECT_GT(refused.wait.count(), 0);
  a->release("p/edit/0/0/openai", first.lease);
  std::this_thread::sleep_for(50ms);  // release() does not wait: its write is on its way
  auto second = take(*b, two);
  EXPECT_TRUE(second.granted);
  EXPECT_FALSE(take(*a, two).granted);
  std::this_thread::sleep_for(450ms);  // the dead node's lease lapses (Redis' clock)
  EXPECT_TRUE(take(*a, two).granted);
}

TEST_F(RedisLimitsTest, PerMinuteCountsEveryNodesStartsInTheWindow) {
  auto a = node(500ms), b = node(500ms);
  const RateLimit three{.requests_per_minute = 3};
  EXPECT_TRUE(take(*a, three).granted);
  EXPECT_TRUE(take(*b, three).granted);
  EXPECT_TRUE(take(*a, three).granted);
  auto refused = take(*b, three);
  EXPECT_FALSE(refused.granted);
  EXPECT_GT(refused.wait.count(), 0);
  EXPECT_LE(refused.wait.count(), 501);
  std::this_thread::sleep_for(refused.wait + 10ms);
  EXPECT_TRUE(take(*b, three).granted);
}

TEST_F(RedisLimitsTest, A429OnOneNodePausesEveryNode) {
  auto a = node(), b = node();
  const RateLimit any{.requests_per_minute = 1000};
  a->pause("p/edit/0/0/openai", 800ms);
  std::this_thread::sleep_for(50ms);
  auto paused = take(*b, any);
  EXPECT_FALSE(paused.granted);
  EXPECT_GT(paused.wait.count(), 500);
  a->pause("p/edit/0/0/openai", 10ms);  // a shorter pause does not cut the longer one
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(take(*b, any).granted);
}

}  // namespace
}  // namespace imagepipe::testing
