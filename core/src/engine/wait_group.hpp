// Waits for a set of coroutines spawned on the same strand to finish.
#pragma once

#include <boost/asio/redirect_error.hpp>

#include "imagepipe/asio.hpp"

namespace imagepipe {

class WaitGroup {
 public:
  explicit WaitGroup(asio::any_io_executor ex)
      : timer_(ex, std::chrono::steady_clock::time_point::max()) {}
  void add(int n = 1) { pending_ += n; }
  void done() {
    if (--pending_ == 0) timer_.cancel();
  }
  Task<void> wait() {
    if (pending_ == 0) co_return;
    boost::system::error_code ignored;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }

 private:
  asio::steady_timer timer_;
  int pending_ = 0;
};

}  // namespace imagepipe
