#include <gtest/gtest.h>

#include "jobs/jobs.hpp"

namespace imagepipe {
namespace {

using namespace std::chrono_literals;

TEST(CallbackPolicy, RetriesOnlyWhatAnotherAttemptCanFix) {
  EXPECT_TRUE(callback_retryable(ErrorClass::unavailable));  // refused, reset, 5xx
  EXPECT_TRUE(callback_retryable(ErrorClass::timeout));
  EXPECT_TRUE(callback_retryable(ErrorClass::rate_limited));    // 429
  EXPECT_FALSE(callback_retryable(ErrorClass::invalid_input));  // 4xx, egress refusal
  EXPECT_FALSE(callback_retryable(ErrorClass::not_found));
  EXPECT_FALSE(callback_retryable(ErrorClass::unauthorized));
}

TEST(CallbackPolicy, BackoffDoublesWithJitterUpToTheCap) {
  CallbackPolicy policy{.max_attempts = 10, .base_delay = 1000ms, .max_delay = 8000ms};
  for (int i = 0; i < 200; ++i) {
    auto first = callback_backoff(policy, 1, std::nullopt);
    EXPECT_GE(first, 500ms);
    EXPECT_LE(first, 1000ms);
    auto third = callback_backoff(policy, 3, std::nullopt);
    EXPECT_GE(third, 2000ms);
    EXPECT_LE(third, 4000ms);
    auto late = callback_backoff(policy, 30, std::nullopt);
    EXPECT_GE(late, 4000ms);
    EXPECT_LE(late, 8000ms);
  }
}

TEST(CallbackPolicy, RetryAfterIsAFloor) {
  CallbackPolicy policy{.max_attempts = 10, .base_delay = 100ms, .max_delay = 1000ms};
  EXPECT_EQ(callback_backoff(policy, 1, 120s), 120s);
  EXPECT_LE(callback_backoff(policy, 1, 10ms), 100ms);
}

TEST(ResultCodec, KeepsEveryFieldTheCallbackTemplatesRead) {
  JobResult job;
  job.id = "550e8400-e29b-41d4-a716-446655440000";
  job.pipeline = "wxo-batch";
  job.status = "completed_with_errors";
  job.started_at = from_unix_ms(1'700'000'000'000);
  job.finished_at = from_unix_ms(1'700'000'005'700);
  job.sink = {{"storage", "local"}, {"prefix", "results/batch/x/"}};
  ItemResult ok;
  ok.index = 0;
  ok.name = "Pizza.png";
  ok.stem = "Pizza";
  ok.ext = "png";
  ok.status = "completed";
  ok.provider = "local";
  ok.attempts = 2;
  ok.fall_throughs = 1;
  ok.notes = {"openai billing_limit (quota) -> fallback local applied"};
  ItemOutput out;
  out.mime = "image/png";
  out.ext = "png";
  out.width = 64;
  out.height = 32;
  out.bytes = 1234;
  out.key = "results/batch/x/Pizza_modified.png";
  out.url = "https://example.com/x";
  out.expires_in = 900;
  ok.outputs.push_back(out);
  ItemResult bad;
  bad.index = 1;
  bad.name = "broken.jpg";
  bad.status = "failed";
  bad.error_class = ErrorClass::invalid_input;
  bad.error = "not an image";
  job.items = {ok, bad};

  const JobResult back =
      job_result_from_json(nlohmann::json::parse(job_result_to_json(job).dump()));
  EXPECT_EQ(job_summary(back), job_summary(job));
  EXPECT_EQ(job_scope(back, {}, false), job_scope(job, {}, false));
  EXPECT_EQ(back.items[1].error_class, ErrorClass::invalid_input);
  EXPECT_EQ(back.items[0].fall_throughs, 1);
}

}  // namespace
}  // namespace imagepipe
