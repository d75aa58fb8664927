#include "provider_gate.hpp"

#include <boost/asio/redirect_error.hpp>

namespace imagepipe {

namespace {
std::mutex shared_mu;
std::shared_ptr<SharedLimits> shared_instance;
}  // namespace

void set_shared_limits(std::shared_ptr<SharedLimits> limits) {
  std::lock_guard lock(shared_mu);
  shared_instance = std::move(limits);
}

std::shared_ptr<SharedLimits> shared_limits() {
  std::lock_guard lock(shared_mu);
  return shared_instance;
}

Task<std::string> ProviderGate::acquire() {
  co_await acquire_here();
  if (!shared_) co_return std::string();
  try {
    co_return co_await acquire_shared();
  } catch (const std::exception&) {
    // The shared state is unreachable (its jobs cannot be stored either): this process'
    // own limits still hold.
    co_return std::string();
  }
}

Task<std::string> ProviderGate::acquire_shared() {
  for (;;) {
    auto grant = co_await shared_->try_acquire(key_, limit_);
    if (grant.granted) co_return grant.lease;
    co_await clock_.sleep_for(grant.wait);
  }
}

Task<void> ProviderGate::acquire_here() {
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
      } else if (!shared_ && limit_.requests_per_minute > 0 &&
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

void ProviderGate::release(const std::string& lease) {
  if (shared_ && !lease.empty()) shared_->release(key_, lease);
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
  if (shared_) shared_->pause(key_, d);
  std::lock_guard lock(mu_);
  paused_until_ = std::max(paused_until_, clock_.steady_now() + d);
}

}  // namespace imagepipe
