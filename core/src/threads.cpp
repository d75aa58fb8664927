#include "imagepipe/threads.hpp"

#include <pthread.h>

#include <latch>
#include <memory>
#include <string>

namespace imagepipe {

void name_this_thread(const char* name) {
  const std::string shortened = std::string(name).substr(0, 15);
  (void)::pthread_setname_np(::pthread_self(), shortened.c_str());
}

void on_each_pool_thread(asio::thread_pool& pool, int threads, void (*setup)()) {
  // Shared, not on this stack: a pool thread may still be inside arrive_and_wait() after
  // wait() has returned here, and a latch destroyed under a waiter can leave it blocked
  // for ever (seen: a CPU thread lost at start-up).
  auto all_started = std::make_shared<std::latch>(threads);
  for (int i = 0; i < threads; ++i)
    asio::post(pool, [all_started, setup] {
      setup();
      // Waiting here keeps this thread from taking another of the tasks.
      all_started->arrive_and_wait();
    });
  all_started->wait();
}

}  // namespace imagepipe
