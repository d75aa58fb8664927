// The fallback chain and the per-entry limits with real providers: billing limit → the
// seeds' local fallback (counted in fell_back), an optional entry with no key skipped and a
// required one failing, the
// requests-per-minute limit over a concurrent batch, and a 429 slowing the whole entry.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "provider_harness.hpp"
#include "support/images.hpp"

namespace imagepipe::testing {
namespace {

using ::testing::MatchesRegex;
using namespace std::chrono_literals;

const char* kSeedsChain = R"yaml(name: wxo-like
source: {from: request, field: image, filename_field: filename}
provider:
  - use: openai
    with: {operation: edit, base_url: "${FAKE_OPENAI}", api_key: "${OPENAI_KEY}", model: gpt-image-1}
    fall_through_on: [billing_limit]
  - use: local
    with: {operation: invert, watermark: "DEMO - FALLBACK (OpenAI billing limit)"}
sink: {inline: true}
)yaml";

TEST(ProviderChain, BillingLimitFallsThroughToLocalAndIsCounted) {
  ProviderHarness h;
  h.fake().fail_next(1, Failure::billing_limit);
  const Image input = solid(40, 30, {10, 20, 30});
  auto job =
      h.run(kSeedsChain, image_request(encode(input, ImageFormat::png), "add a dog", "Pizza.png"));
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  const auto& item = job.items[0];
  EXPECT_EQ(item.provider, "local");
  EXPECT_EQ(item.fall_throughs, 1);
  EXPECT_EQ(item.attempts, 2);  // billing_limit is not retried
  const Image out = output_image(item);
  EXPECT_EQ(out.width, 40);
  EXPECT_EQ(pixel(out, 1, 1),
            (std::vector<std::uint8_t>{245, 235, 225}));  // inverted, away from the mark
  const auto m = job.metrics();
  EXPECT_EQ(m["fell_back"], 1);
  EXPECT_EQ(m["processed"], 1);
  EXPECT_EQ(m["failed"], 0);
  EXPECT_EQ(m["fall_throughs"], 1);
  EXPECT_THAT(
      m["errors"][0].get<std::string>(),
      MatchesRegex(
          R"(Pizza\.png: openai billing_limit \(Billing hard limit has been reached \(HTTP 400, billing_hard_limit_reached, request req_scripted_[0-9]+\)\) -> fallback local applied)"));
  EXPECT_EQ(item.chain.size(), 2u);
  EXPECT_EQ(item.chain[0]["outcome"], "billing_limit");
  EXPECT_EQ(item.chain[1]["provider"], "local");
  EXPECT_EQ(h.metrics().value("imagepipe_fall_throughs_total", {{"provider", "openai"}}), 1);
}

TEST(ProviderChain, OtherErrorsDoNotFallThrough) {
  ProviderHarness h;
  h.fake().fail_next(1, Failure::insufficient_quota);
  auto job = h.run(kSeedsChain, image_request(encode(gradient(16, 16), ImageFormat::png), "x"));
  EXPECT_EQ(job.status, "failed");
  EXPECT_EQ(job.items[0].error_class, ErrorClass::quota_exceeded);
  EXPECT_EQ(job.metrics()["fell_back"], 0);
}

TEST(ProviderChain, AnEntryWithNoKeyIsNotSkippedUnlessOptional) {
  ProviderHarness h;
  auto job =
      h.run(kSeedsChain, image_request(encode(gradient(16, 16), ImageFormat::png), "x", "a.png"),
            {{"OPENAI_KEY", ""}});
  EXPECT_EQ(job.status, "failed");
  EXPECT_EQ(job.items[0].error_class, ErrorClass::unauthorized);
  EXPECT_EQ(job.items[0].provider, "");
  EXPECT_EQ(h.fake().received().size(), 0u);
}

TEST(ProviderChain, AnOptionalEntryWithNoKeyIsSkippedWithoutARequest) {
  ProviderHarness h;
  std::string yaml = kSeedsChain;
  yaml.replace(yaml.find("    fall_through_on"), 0, "    optional: true\n");
  auto job = h.run(yaml, image_request(encode(gradient(16, 16), ImageFormat::png), "x", "a.png"),
                   {{"OPENAI_KEY", ""}});
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  EXPECT_EQ(job.items[0].provider, "local");
  EXPECT_EQ(job.items[0].attempts, 1);
  EXPECT_EQ(job.metrics()["fell_back"], 1);
  EXPECT_EQ(job.metrics()["errors"].size(), 0u);  // a deployment choice, not an error
  EXPECT_EQ(job.items[0].chain[0]["outcome"], "skipped");
  EXPECT_EQ(job.items[0].chain[0]["reason"], "not configured: api_key empty");
  EXPECT_NE(h.log_text().find("a.png: openai skipped (not configured: api_key empty), using local"),
            std::string::npos);
  EXPECT_EQ(h.fake().received().size(), 0u);
}

// `count` small PNG files in a fresh folder, removed at the end of the test.
struct ImageFolder {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("imagepipe-batch-" + new_job_id());
  explicit ImageFolder(int count) {
    std::filesystem::create_directories(dir);
    const std::string png = encode(gradient(8, 8), ImageFormat::png);
    for (int i = 0; i < count; ++i)
      std::ofstream(dir / ("img" + std::to_string(i) + ".png"), std::ios::binary) << png;
  }
  ~ImageFolder() { std::filesystem::remove_all(dir); }
  std::string glob() const { return (dir / "*.png").string(); }
};

// 200 items, 16 at a time, through an entry limited to 60 requests a minute: no 60-second
// window of the fake clock holds more than 60 request starts. `generate` sends as soon as
// the gate lets an item through, so the send time is the start the limit counts.
TEST(ProviderChain, RequestsPerMinuteHoldsUnderConcurrency) {
  ProviderHarness h;
  const ImageFolder folder(200);
  const std::string yaml = R"(name: batch
concurrency: 16
source: {from: files, paths: [")" +
                           folder.glob() + R"("]}
prompt: "make it blue"
provider:
  use: openai
  with: {operation: generate, base_url: "${FAKE_OPENAI}", api_key: "${OPENAI_KEY}", model: gpt-image-1-mini,
         size: 1024x1024, quality: low}
  limit: {per_minute: 60, in_flight: 8}
sink: {inline: true}
)";
  auto job = h.run(yaml);
  ASSERT_EQ(job.status, "completed");
  EXPECT_EQ(job.metrics()["processed"], 200);
  EXPECT_EQ(h.fake().received("/v1/images/generations").size(), 200u);
  std::vector<long long> at = h.send_times();
  ASSERT_EQ(at.size(), 200u);
  std::sort(at.begin(), at.end());
  for (std::size_t i = 0; i + 60 < at.size(); ++i)
    EXPECT_GE(at[i + 60] - at[i], 60'000) << "at request " << i;
  EXPECT_GE(at.back(), 180'000);  // 200 at 60/min: the last starts after three minutes
  EXPECT_LT(at.back(), 240'000);
}

// A 429 with Retry-After pauses the entry for every item, not just the one that got it.
TEST(ProviderChain, ARateLimitSlowsTheWholeEntry) {
  ProviderHarness h;
  h.fake().fail_next(1, Scripted{Failure::rate_limit, 30'000ms});
  const ImageFolder folder(4);
  const std::string yaml = R"(name: paced
concurrency: 4
source: {from: files, paths: [")" +
                           folder.glob() + R"("]}
prompt: "x"
provider:
  use: openai
  with: {operation: edit, base_url: "${FAKE_OPENAI}", api_key: "${OPENAI_KEY}"}
  limit: {in_flight: 1}
sink: {inline: true}
)";
  auto job = h.run(yaml);
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  const auto sent = h.fake().received("/v1/images/edits");
  ASSERT_EQ(sent.size(), 5u);
  EXPECT_EQ(sent[0].status, 429);
  for (std::size_t i = 1; i < sent.size(); ++i)
    EXPECT_GE(sent[i].at_ms, sent[0].at_ms + 30'000) << i;
}

}  // namespace
}  // namespace imagepipe::testing
