#include "imagepipe/pixel_budget.hpp"

#include <vector>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>

#include "imagepipe/error.hpp"

namespace imagepipe {

namespace {
constexpr const char* kGauge = "imagepipe_decoded_pixel_bytes";
}

PixelReservation::PixelReservation(std::shared_ptr<PixelBudget> budget,
                                   std::shared_ptr<PixelAccount> account, std::uint64_t bytes)
    : budget_(std::move(budget)), account_(std::move(account)), bytes_(bytes) {
  if (account_) account_->held_ += bytes_;
}

PixelReservation::~PixelReservation() {
  if (account_) account_->held_ -= bytes_;
  budget_->give(bytes_);
}

void PixelReservation::resize(std::uint64_t bytes) {
  if (bytes == bytes_) return;
  if (account_) account_->held_ += bytes - bytes_;  // modulo 2^64: a decrease subtracts
  if (bytes > bytes_)
    budget_->take(bytes - bytes_);
  else
    budget_->give(bytes_ - bytes);
  bytes_ = bytes;
}

std::shared_ptr<PixelBudget> PixelBudget::create(std::uint64_t capacity, std::string setting,
                                                 Metrics* metrics) {
  return std::shared_ptr<PixelBudget>(new PixelBudget(capacity, std::move(setting), metrics));
}

PixelBudget::PixelBudget(std::uint64_t capacity, std::string setting, Metrics* metrics)
    : capacity_(capacity), setting_(std::move(setting)), metrics_(metrics) {
  if (metrics_) {
    metrics_->describe(kGauge,
                       "Bytes of decoded pixels held by running jobs, counted against the "
                       "budget for decoded pixels in flight");
    metrics_->set(kGauge, {}, 0);
  }
}

std::uint64_t PixelBudget::in_use() const {
  std::lock_guard lock(mutex_);
  return in_use_;
}

std::size_t PixelBudget::waiting() const {
  std::lock_guard lock(mutex_);
  return waiters_.size();
}

std::uint64_t PixelBudget::bytes_of(int width, int height, int channels) {
  return std::uint64_t(std::max(width, 0)) * std::uint64_t(std::max(height, 0)) *
         std::uint64_t(std::max(channels, 0));
}

void PixelBudget::report(std::uint64_t in_use) {
  if (metrics_) metrics_->set(kGauge, {}, double(in_use));
}

void PixelBudget::take(std::uint64_t bytes) {
  std::uint64_t now;
  {
    std::lock_guard lock(mutex_);
    now = in_use_ += bytes;
  }
  report(now);
}

void PixelBudget::give(std::uint64_t bytes) {
  std::vector<std::function<void()>> wake;
  std::uint64_t now;
  {
    std::lock_guard lock(mutex_);
    in_use_ -= bytes;
    // In order: a large image first in line is not passed for ever by small ones.
    while (!waiters_.empty() && in_use_ + waiters_.front().bytes <= capacity_) {
      in_use_ += waiters_.front().bytes;
      wake.push_back(std::move(waiters_.front().resume));
      waiters_.pop_front();
    }
    now = in_use_;
  }
  report(now);
  for (auto& resume : wake) resume();
}

Task<void> PixelBudget::wait_for(std::uint64_t bytes) {
  // The handler is resumed on its own executor (the job's strand) by whichever thread
  // frees the bytes; nothing blocks a thread meanwhile.
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
      [this, bytes](auto handler) {
        using Handler = decltype(handler);
        auto shared = std::make_shared<Handler>(std::move(handler));
        std::function<void()> resume = [shared] {
          auto ex = asio::get_associated_executor(*shared);
          asio::post(ex, [shared]() mutable { (*shared)(); });
        };
        bool now = false;
        std::uint64_t in_use;
        {
          std::lock_guard lock(mutex_);
          if (waiters_.empty() && in_use_ + bytes <= capacity_) {
            in_use_ += bytes;
            now = true;
          } else {
            waiters_.push_back({bytes, std::move(resume)});
          }
          in_use = in_use_;
        }
        if (now) {
          report(in_use);
          resume();
        }
      },
      asio::use_awaitable);
}

Task<std::shared_ptr<PixelReservation>> PixelBudget::reserve(int width, int height, int channels,
                                                             PixelAccount* account) {
  const std::uint64_t bytes = bytes_of(width, height, channels);
  if (bytes > capacity_)
    throw Error(ErrorClass::invalid_input,
                "image is " + std::to_string(width) + "x" + std::to_string(height) + " with " +
                    std::to_string(channels) + " channels: its " + std::to_string(bytes) +
                    " bytes of pixels are over the budget of " + std::to_string(capacity_) +
                    " bytes for decoded pixels in flight (" + setting_ + ")");
  if (account && account->held() > 0)
    take(bytes);
  else
    co_await wait_for(bytes);
  co_return std::make_shared<PixelReservation>(
      shared_from_this(), account ? account->shared_from_this() : nullptr, bytes);
}

}  // namespace imagepipe
