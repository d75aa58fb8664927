#include "provider_gate.hpp"

#include <boost/asio/redirect_error.hpp>

namespace imagepipe {

Task<void> ProviderGate::acquire() {
  using namespace std::chrono;
  for (;;) {
    std::shared_ptr<asio::steady_timer> slot_wait;
    TimePoint wake{};
    {
      std::lock_guard lock(mu_);
      const auto now = clock_.steady_now();
      while (!starts_.empty() && starts_.front() <= now - minutes(1)) starts_.pop_front();
      if (paused_until_ > now) {
        wake = paused_until_;
      } else if (limit_.max_in_flight > 0 && in_flight_ >= limit_.max_in_flight) {
        slot_wait = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor,
                                                          steady_clock::time_point::max());
        waiters_.push_back(slot_wait);
      } else if (limit_.requests_per_minute > 0 &&
                 starts_.size() >= static_cast<std::size_t>(limit_.requests_per_minute)) {
        wake = starts_.front() + minutes(1);
      } else {
        ++in_flight_;
        starts_.push_back(now);
        co_return;
      }
    }
    if (slot_wait) {
      boost::system::error_code ignored;
      co_await slot_wait->async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    } else {
      co_await clock_.sleep_until(wake);
    }
  }
}

void ProviderGate::release() {
  std::shared_ptr<asio::steady_timer> next;
  {
    std::lock_guard lock(mu_);
    --in_flight_;
    if (!waiters_.empty()) {
      next = waiters_.front();
      waiters_.pop_front();
    }
  }
  if (next) asio::post(next->get_executor(), [next] { next->cancel(); });
}

void ProviderGate::pause_for(std::chrono::milliseconds d) {
  std::lock_guard lock(mu_);
  paused_until_ = std::max(paused_until_, clock_.steady_now() + d);
}

}  // namespace imagepipe
