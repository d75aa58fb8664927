#include "imagepipe/threads.hpp"

#include <pthread.h>

#include <atomic>
#include <future>
#include <mutex>
#include <set>

#include <gtest/gtest.h>

namespace imagepipe::testing {
namespace {

std::mutex seen_mu;
std::set<pthread_t> seen;
std::atomic<int> calls{0};

void record_thread() {
  ++calls;
  std::lock_guard lock(seen_mu);
  seen.insert(::pthread_self());
}

TEST(Threads, SetupRunsOnceOnEachPoolThreadEvenWhenCalledBackToBack) {
  // Back to back is what start-up does (name the threads, then lower their priority). A
  // latch on the caller's stack once left a pool thread blocked for ever here.
  constexpr int kThreads = 4;
  asio::thread_pool pool(kThreads);
  for (int round = 0; round < 200; ++round) {
    {
      std::lock_guard lock(seen_mu);
      seen.clear();
    }
    calls = 0;
    auto done = std::async(std::launch::async,
                           [&] { on_each_pool_thread(pool, kThreads, &record_thread); });
    ASSERT_EQ(done.wait_for(std::chrono::seconds(10)), std::future_status::ready)
        << "round " << round << " never finished";
    EXPECT_EQ(calls, kThreads);
    std::lock_guard lock(seen_mu);
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(kThreads));
  }
  pool.join();
}

TEST(Threads, NamesTheCallingThreadShortenedToWhatLinuxKeeps) {
  std::string name;
  std::thread([&] {
    name_this_thread("imagepipe-a-rather-long-name");
    char buffer[32] = {};
    ::pthread_getname_np(::pthread_self(), buffer, sizeof buffer);
    name = buffer;
  }).join();
  EXPECT_EQ(name, "imagepipe-a-rat");
}

}  // namespace
}  // namespace imagepipe::testing
