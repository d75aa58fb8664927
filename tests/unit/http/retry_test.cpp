#include "imagepipe/retry.hpp"

#include <gtest/gtest.h>

namespace imagepipe {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, DoublesWithEqualJitterUpToTheCap) {
  for (int i = 0; i < 200; ++i) {
    const auto first = backoff_delay(milliseconds(400), milliseconds(10'000), 1, std::nullopt);
    EXPECT_GE(first.count(), 200);
    EXPECT_LT(first.count(), 400);
    const auto third = backoff_delay(milliseconds(400), milliseconds(10'000), 3, std::nullopt);
    EXPECT_GE(third.count(), 800);
    EXPECT_LT(third.count(), 1600);
    const auto capped = backoff_delay(milliseconds(400), milliseconds(1'000), 20, std::nullopt);
    EXPECT_GE(capped.count(), 500);
    EXPECT_LT(capped.count(), 1000);
  }
  EXPECT_EQ(backoff_delay(milliseconds(400), milliseconds(10'000), 1, milliseconds(5'000)),
            milliseconds(5'000));
}

TEST(RetryAfter, SecondsFractionsAndHttpDates) {
  const auto now = *parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(parse_retry_after("120", now), milliseconds(120'000));
  EXPECT_EQ(parse_retry_after(" 1.5 ", now), milliseconds(1'500));
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now), milliseconds(30'000));
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), milliseconds(0));
  EXPECT_FALSE(parse_retry_after("-3", now));
  EXPECT_FALSE(parse_retry_after("soon", now));
  EXPECT_FALSE(parse_retry_after("", now));
}

// Past 2262 system_clock's nanoseconds overflow (undefined behaviour): such a date is
// treated as no date (found by tests/fuzz/storage_xml_fuzz.cpp).
TEST(HttpDate, DatesFarInTheFutureAreNoDates) {
  EXPECT_FALSE(parse_http_date("Tue, 02 Jan 3024 03:04:05 GMT"));
  EXPECT_TRUE(parse_http_date("Tue, 02 Jan 2124 03:04:05 GMT"));
  EXPECT_EQ(parse_retry_after("Tue, 02 Jan 3024 03:04:05 GMT"), std::nullopt);
}

}  // namespace
}  // namespace imagepipe
