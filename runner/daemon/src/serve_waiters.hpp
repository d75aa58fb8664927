// Sync triggers wait for their job to finish; the dispatcher wakes them. A waiter's timer
// is only touched on its own executor (the connection's strand), so the wake-up is posted.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/redirect_error.hpp>
#include <nlohmann/json.hpp>

#include "imagepipe/asio.hpp"

namespace imagepipe::serve {

class JobWaiters {
 public:
  struct Waiter {
    explicit Waiter(asio::any_io_executor ex) : timer(ex) {}
    asio::steady_timer timer;
    std::mutex mu;
    std::optional<nlohmann::json> summary;
  };

  // Register before the job can finish, so the wake-up cannot be missed.
  std::shared_ptr<Waiter> expect(const std::string& job_id, asio::any_io_executor ex) {
    auto w = std::make_shared<Waiter>(ex);
    std::lock_guard lock(mu_);
    waiting_[job_id].push_back(w);
    return w;
  }

  // The job's summary, or nullopt when `timeout` passed first. Call on `ex` of expect().
  Task<std::optional<nlohmann::json>> wait(const std::string& job_id, std::shared_ptr<Waiter> w,
                                           std::chrono::milliseconds timeout) {
    {
      std::lock_guard lock(w->mu);
      if (w->summary) {
        forget(job_id, w);
        co_return w->summary;
      }
      w->timer.expires_after(timeout);
    }
    boost::system::error_code ignored;
    co_await w->timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    forget(job_id, w);
    std::lock_guard lock(w->mu);
    co_return w->summary;
  }

  void finished(const std::string& job_id, const nlohmann::json& summary) {
    std::vector<std::shared_ptr<Waiter>> waiters;
    {
      std::lock_guard lock(mu_);
      auto it = waiting_.find(job_id);
      if (it == waiting_.end()) return;
      waiters = std::move(it->second);
      waiting_.erase(it);
    }
    for (auto& w : waiters) {
      {
        std::lock_guard lock(w->mu);
        w->summary = summary;
      }
      asio::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
    }
  }

 private:
  void forget(const std::string& job_id, const std::shared_ptr<Waiter>& w) {
    std::lock_guard lock(mu_);
    auto it = waiting_.find(job_id);
    if (it == waiting_.end()) return;
    std::erase(it->second, w);
    if (it->second.empty()) waiting_.erase(it);
  }

  std::mutex mu_;
  std::map<std::string, std::vector<std::shared_ptr<Waiter>>> waiting_;
};

}  // namespace imagepipe::serve
