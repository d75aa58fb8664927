// An asynchronous step run until it has succeeded once, for coroutines on any thread.
// Storage plugins use it to create a missing bucket or container once, however many
// uploads find it missing at the same moment.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>

#include "imagepipe/asio.hpp"

namespace imagepipe {

class AsyncOnce {
 public:
  // The first caller runs `step`; callers that arrive while it runs wait and share its
  // outcome (its exception included); callers after a success return at once. A failure
  // is not remembered: the next caller runs the step again.
  //
  // `step` should capture pointers only (g++ 12 mishandles class types captured by value
  // in lambdas made inside coroutines).
  Task<void> run(std::function<Task<void>()> step) {
    bool lead = false;
    {
      std::lock_guard lock(mu_);
      if (done_) co_return;
      if (!running_) running_ = lead = true;
    }
    if (!lead) {
      co_await wait();
      co_return;
    }
    std::exception_ptr error;
    try {
      co_await step();
    } catch (...) {
      error = std::current_exception();
    }
    std::vector<Waker> waiters;
    {
      std::lock_guard lock(mu_);
      running_ = false;
      done_ = !error;
      last_error_ = error;
      waiters.swap(waiters_);
    }
    for (auto& wake : waiters) wake(error);
    if (error) std::rethrow_exception(error);
  }

  bool done() const {
    std::lock_guard lock(mu_);
    return done_;
  }

 private:
  using Waker = std::function<void(std::exception_ptr)>;

  // Suspends until the run in flight ends; resumes on the caller's own executor.
  Task<void> wait() {
    return asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr)>(
        [this](auto handler) {
          // Handlers are move-only and std::function wants a copy: share it instead.
          auto shared = std::make_shared<decltype(handler)>(std::move(handler));
          Waker wake = [shared](std::exception_ptr error) {
            auto ex = asio::get_associated_executor(*shared);
            asio::post(ex, [shared, error]() { (*shared)(error); });
          };
          std::unique_lock lock(mu_);
          if (running_) {
            waiters_.push_back(std::move(wake));
            return;
          }
          // The run ended between run() and here.
          auto error = done_ ? nullptr : last_error_;
          lock.unlock();
          wake(error);
        },
        asio::use_awaitable);
  }

  mutable std::mutex mu_;
  bool running_ = false;
  bool done_ = false;
  std::exception_ptr last_error_;
  std::vector<Waker> waiters_;
};

}  // namespace imagepipe
