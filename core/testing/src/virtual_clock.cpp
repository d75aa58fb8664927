#include "imagepipe/testing/virtual_clock.hpp"

#include <algorithm>

namespace imagepipe::testing {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

std::chrono::system_clock::time_point VirtualClock::now() const {
  std::lock_guard lock(mu_);
  return system_base_ + offset_;
}

steady_clock::time_point VirtualClock::steady_now() const {
  std::lock_guard lock(mu_);
  return steady_base_ + offset_;
}

Task<void> VirtualClock::sleep_for(milliseconds d) {
  {
    std::lock_guard lock(mu_);
    sleeps_.push_back(d);
    offset_ += d;
  }
  // Let other coroutines run, as a real sleep would.
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
}

Task<void> VirtualClock::sleep_until(steady_clock::time_point t) {
  {
    std::lock_guard lock(mu_);
    // Several sleepers waiting for the same instant wake at that instant: time moves
    // forward to the latest wake-up point, it does not add up.
    auto target = duration_cast<milliseconds>(t - steady_base_);
    sleeps_.push_back(std::max(milliseconds(0), target - offset_));
    offset_ = std::max(offset_, target);
  }
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
}

void VirtualClock::advance(milliseconds d) {
  std::lock_guard lock(mu_);
  offset_ += d;
}

milliseconds VirtualClock::elapsed() const {
  std::lock_guard lock(mu_);
  return offset_;
}

std::vector<milliseconds> VirtualClock::sleeps() const {
  std::lock_guard lock(mu_);
  return sleeps_;
}

}  // namespace imagepipe::testing
