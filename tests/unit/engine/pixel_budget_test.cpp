// The budget for decoded pixels in flight: reservations that fit are granted at once,
// others wait in order until bytes are freed, an item that holds pixels never waits (the
// case that would otherwise deadlock), an image over the whole budget is refused, and the
// gauge follows the bytes in use.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "imagepipe/error.hpp"
#include "imagepipe/pixel_budget.hpp"

namespace imagepipe {
namespace {

using Held = std::shared_ptr<PixelReservation>;

// Runs what is ready (io.run would wait for the suspended reservations for ever).
void settle(asio::io_context& io) {
  io.restart();
  io.poll();
}

// Starts a reservation of a width x 1 x 1 image for `account` and stores it when granted.
void start(asio::io_context& io, PixelBudget& budget, int bytes, PixelAccount* account,
           Held& into) {
  asio::co_spawn(
      io,
      [&budget, bytes, account, &into]() -> Task<void> {
        into = co_await budget.reserve(bytes, 1, 1, account);
      },
      asio::detached);
}

TEST(PixelBudget, WaitsInOrderUntilBytesAreFreed) {
  asio::io_context io;
  Metrics metrics;
  auto budget = PixelBudget::create(100, "limits.decoded_pixel_bytes", &metrics);
  auto a = std::make_shared<PixelAccount>(), b = std::make_shared<PixelAccount>(),
       c = std::make_shared<PixelAccount>();
  Held first, second, third;
  start(io, *budget, 60, a.get(), first);
  start(io, *budget, 50, b.get(), second);
  start(io, *budget, 10, c.get(), third);  // fits, but waits behind the second
  settle(io);
  ASSERT_TRUE(first);
  EXPECT_FALSE(second);
  EXPECT_FALSE(third);
  EXPECT_EQ(budget->in_use(), 60u);
  EXPECT_EQ(budget->waiting(), 2u);
  EXPECT_EQ(metrics.value("imagepipe_decoded_pixel_bytes"), 60);

  first.reset();  // the image is freed
  settle(io);
  EXPECT_TRUE(second);
  EXPECT_TRUE(third);
  EXPECT_EQ(budget->in_use(), 60u);
  EXPECT_EQ(a->held(), 0u);
  EXPECT_EQ(b->held(), 50u);

  second.reset(), third.reset();
  EXPECT_EQ(budget->in_use(), 0u);
  EXPECT_EQ(metrics.value("imagepipe_decoded_pixel_bytes"), 0);
}

TEST(PixelBudget, AnItemHoldingPixelsNeverWaits) {
  // Two items each hold 60 of 100 bytes' budget... one is let in over it, so neither waits
  // on the other for ever: the one that holds takes its second image at once.
  asio::io_context io;
  auto budget = PixelBudget::create(100, "limits.decoded_pixel_bytes");
  auto a = std::make_shared<PixelAccount>(), b = std::make_shared<PixelAccount>();
  Held a1, b1, a2;
  start(io, *budget, 60, a.get(), a1);
  start(io, *budget, 60, b.get(), b1);  // waits: a holds 60
  settle(io);
  ASSERT_TRUE(a1);
  EXPECT_FALSE(b1);
  start(io, *budget, 60, a.get(), a2);  // a's second image: at once, over the budget
  settle(io);
  ASSERT_TRUE(a2);
  EXPECT_EQ(budget->in_use(), 120u);
  a1.reset(), a2.reset();  // a finishes
  settle(io);
  EXPECT_TRUE(b1);
  EXPECT_EQ(budget->in_use(), 60u);
}

TEST(PixelBudget, ResizeFreesOrTakes) {
  asio::io_context io;
  auto budget = PixelBudget::create(100, "limits.decoded_pixel_bytes");
  auto a = std::make_shared<PixelAccount>(), b = std::make_shared<PixelAccount>();
  Held held, waiting;
  start(io, *budget, 90, a.get(), held);
  start(io, *budget, 50, b.get(), waiting);
  settle(io);
  held->resize(40);  // a JPEG decoded at a smaller scale than its header
  settle(io);
  EXPECT_TRUE(waiting);
  EXPECT_EQ(budget->in_use(), 90u);
  held->resize(70);  // a transform's larger output: taken at once
  EXPECT_EQ(budget->in_use(), 120u);
  EXPECT_EQ(a->held(), 70u);
}

TEST(PixelBudget, AnImageOverTheWholeBudgetIsRefused) {
  asio::io_context io;
  auto budget = PixelBudget::create(20'000, "limits.decoded_pixel_bytes");
  std::string error;
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        try {
          co_await budget->reserve(100, 100, 3, nullptr);
        } catch (const Error& e) {
          error = e.what();
        }
      },
      asio::detached);
  settle(io);
  EXPECT_EQ(error,
            "image is 100x100 with 3 channels: its 30000 bytes of pixels are over the budget of "
            "20000 bytes for decoded pixels in flight (limits.decoded_pixel_bytes)");
  EXPECT_EQ(budget->in_use(), 0u);
}

}  // namespace
}  // namespace imagepipe
