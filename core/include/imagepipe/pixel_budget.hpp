// The process's budget for decoded pixels in flight, in bytes. Jobs each hold images of
// up to the pixel limit, and a daemon running eight of them at once could otherwise hold
// eight times 400 MB; past the budget a decode waits (on the job's strand, never on a
// pool thread) until images are freed.
//
// No waiting for ever: a decode waits only when its item holds no counted pixels. An item
// that holds some (its input while it decodes a second image, a transform's output while
// the input is alive) takes what it needs at once, over the budget if it must, so two
// items each holding half the budget never wait on each other, and every holder finishes
// and frees what it holds. The budget is exceeded by at most what items holding pixels
// take on top; a single image larger than the whole budget is refused.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "imagepipe/asio.hpp"
#include "imagepipe/metrics.hpp"

namespace imagepipe {

class PixelBudget;

// The bytes one item's images hold. Shared by its reservations.
class PixelAccount : public std::enable_shared_from_this<PixelAccount> {
 public:
  std::uint64_t held() const { return held_; }

 private:
  friend class PixelReservation;
  std::atomic<std::uint64_t> held_{0};
};

// Bytes counted against a budget until the last copy goes: Image::reservation holds it,
// so freeing the pixels frees the bytes.
class PixelReservation {
 public:
  PixelReservation(std::shared_ptr<PixelBudget> budget, std::shared_ptr<PixelAccount> account,
                   std::uint64_t bytes);
  ~PixelReservation();
  PixelReservation(const PixelReservation&) = delete;
  PixelReservation& operator=(const PixelReservation&) = delete;

  std::uint64_t bytes() const { return bytes_; }
  // Counts `bytes` from now on: less frees the difference for waiters, more is taken at once
  // (the holder never waits). For a decode smaller than its header (a JPEG decoded at 1/8)
  // and for a transform's outputs, which replace its input.
  void resize(std::uint64_t bytes);

 private:
  std::shared_ptr<PixelBudget> budget_;
  std::shared_ptr<PixelAccount> account_;
  std::uint64_t bytes_;
};

class PixelBudget : public std::enable_shared_from_this<PixelBudget> {
 public:
  // `setting` names where the capacity is configured, for the error past it.
  // `metrics`, when set, gets imagepipe_decoded_pixel_bytes and must outlive the budget.
  static std::shared_ptr<PixelBudget> create(std::uint64_t capacity, std::string setting,
                                             Metrics* metrics = nullptr);

  std::uint64_t capacity() const { return capacity_; }
  std::uint64_t in_use() const;
  std::size_t waiting() const;

  // Reserves the pixels of a width x height x channels 8-bit image for `account`: at once
  // when they fit (and no one waits before them) or when the account already holds pixels,
  // else when enough are freed. Throws Error(invalid_input) naming the limit when the image
  // alone is larger than the budget.
  Task<std::shared_ptr<PixelReservation>> reserve(int width, int height, int channels,
                                                  PixelAccount* account);

  // The bytes of a width x height x channels image: the sum every caller uses.
  static std::uint64_t bytes_of(int width, int height, int channels);

 private:
  friend class PixelReservation;
  PixelBudget(std::uint64_t capacity, std::string setting, Metrics* metrics);
  Task<void> wait_for(std::uint64_t bytes);
  void take(std::uint64_t bytes);     // at once, over the budget if need be
  void give(std::uint64_t bytes);     // and wakes the waiters that now fit, in order
  void report(std::uint64_t in_use);  // the gauge

  struct Waiter {
    std::uint64_t bytes;
    std::function<void()> resume;
  };
  const std::uint64_t capacity_;
  const std::string setting_;
  Metrics* const metrics_;
  mutable std::mutex mutex_;
  std::uint64_t in_use_ = 0;
  std::deque<Waiter> waiters_;
};

}  // namespace imagepipe
