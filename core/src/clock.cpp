#include "imagepipe/clock.hpp"

namespace imagepipe {

Task<void> SystemClock::sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::use_awaitable);
}

}  // namespace imagepipe
