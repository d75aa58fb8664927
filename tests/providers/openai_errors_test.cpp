// Every wire error onto its class, with the provider's message and request id kept, the
// server's retry signals honoured, and no key in any message or log line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "openai_errors.hpp"
#include "provider_harness.hpp"
#include "support/images.hpp"

namespace imagepipe::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using namespace std::chrono_literals;

std::string yaml(const std::string& extra = "", int attempts = 1) {
  return R"(name: errors
source: {from: request, field: image}
provider:
  use: openai
  with: {operation: edit, base_url: "${FAKE_OPENAI}", api_key: "${OPENAI_KEY}", model: gpt-image-1)" +
         extra + "}\n  retry: {attempts: " + std::to_string(attempts) + "}\n";
}

JobRequest request() {
  return image_request(encode(gradient(32, 32), ImageFormat::png), "make it blue");
}

struct Case {
  Failure failure;
  ErrorClass cls;
  const char* message;  // regex of the whole item error
};

TEST(OpenAIErrors, EachWireErrorMapsToItsClassWithMessageAndRequestId) {
  const Case cases[] = {
      {Failure::billing_limit, ErrorClass::billing_limit,
       R"(openai: Billing hard limit has been reached \(HTTP 400, billing_hard_limit_reached, request req_scripted_[0-9]+\))"},
      {Failure::insufficient_quota, ErrorClass::quota_exceeded,
       R"(openai: You exceeded your current quota, please check your plan and billing details\. \(HTTP 429, insufficient_quota, request req_scripted_[0-9]+\))"},
      {Failure::rate_limit, ErrorClass::rate_limited,
       R"(openai: Rate limit exceeded for images per minute in organization org-test\. Limit: 5/1min\. \(HTTP 429, rate_limit_exceeded, request req_scripted_[0-9]+\))"},
      {Failure::moderation, ErrorClass::content_policy,
       R"(openai: Your request was rejected by the safety system\. \(HTTP 400, moderation_blocked, request req_scripted_[0-9]+\))"},
      {Failure::server_error, ErrorClass::unavailable,
       R"(openai: The server had an error while processing your request\. Sorry about that! \(HTTP 500, request req_scripted_[0-9]+\))"},
      {Failure::overloaded, ErrorClass::unavailable,
       R"(openai: The engine is currently overloaded, please try again later\. \(HTTP 503, request req_scripted_[0-9]+\))"},
  };
  for (const auto& c : cases) {
    ProviderHarness h;
    h.fake().fail_next(1, c.failure);
    auto job = h.run(yaml(), request());
    ASSERT_EQ(job.items[0].status, "failed");
    EXPECT_EQ(job.items[0].error_class, c.cls) << job.items[0].error;
    EXPECT_THAT(job.items[0].error, MatchesRegex(c.message));
  }
}

TEST(OpenAIErrors, WrongOrMissingKeyIsUnauthorizedAndTheKeyNeverShows) {
  ProviderHarness h;
  const std::string wrong = "sk-wrong-9c2e1f0a7b3d4e5f";
  auto job = h.run(yaml(), request(), {{"OPENAI_KEY", wrong}});
  EXPECT_EQ(job.items[0].error_class, ErrorClass::unauthorized);
  EXPECT_THAT(
      job.items[0].error,
      MatchesRegex(
          R"(openai: Incorrect API key provided: sk-\*+4e5f\. You can find your API key at https://platform\.openai\.com/account/api-keys\. \(HTTP 401, invalid_api_key, request req_[0-9]+\))"));
  EXPECT_EQ(job.items[0].error.find(wrong), std::string::npos);
  EXPECT_EQ(h.log_text().find(wrong), std::string::npos);
  EXPECT_EQ(h.log_text().find(h.fake().openai_key), std::string::npos);
  EXPECT_NE(h.log_text().find("unauthorized"),
            std::string::npos);  // the log did record the failure

  // No key at all and nothing to fall through to: unauthorized without a request.
  job = h.run(yaml(), request(), {{"OPENAI_KEY", ""}});
  EXPECT_EQ(job.items[0].error_class, ErrorClass::unauthorized);
  EXPECT_EQ(job.items[0].error, "openai: no credential: api_key is empty (set OPENAI_API_KEY)");
  EXPECT_EQ(h.fake().received().size(), 1u);
}

TEST(OpenAIErrors, AKeyEchoedByAServerIsScrubbed) {
  HttpResponse r;
  r.status = 401;
  r.headers = {{"x-request-id", "req_1"}};
  r.body =
      R"({"error":{"message":"bad key sk-live-abcdef123456","type":"invalid_request_error","code":"invalid_api_key"}})";
  const Error e = openai::wire_error(r, {"sk-live-abcdef123456"});
  EXPECT_EQ(e.cls(), ErrorClass::unauthorized);
  EXPECT_STREQ(e.what(), "bad key *** (HTTP 401, invalid_api_key, request req_1)");
}

TEST(OpenAIErrors, NonJsonBodiesAndOtherStatuses) {
  HttpResponse r;
  r.status = 429;
  r.body = "error code: 1015";
  EXPECT_EQ(openai::wire_error(r, {}).cls(), ErrorClass::rate_limited);
  EXPECT_STREQ(openai::wire_error(r, {}).what(), "error code: 1015 (HTTP 429)");
  r.status = 403;
  r.body =
      R"({"error":{"message":"Your organization must be verified to use the model `gpt-image-1`.","type":"invalid_request_error","param":null,"code":null}})";
  EXPECT_EQ(openai::wire_error(r, {}).cls(), ErrorClass::unauthorized);
  r.status = 404;
  r.body =
      R"({"error":{"message":"The model 'x' does not exist","type":"invalid_request_error","code":"model_not_found"}})";
  EXPECT_EQ(openai::wire_error(r, {}).cls(), ErrorClass::invalid_input);
  r.status = 502;
  r.body = "<html>Bad gateway</html>";
  EXPECT_EQ(openai::wire_error(r, {}).cls(), ErrorClass::unavailable);
  r.status = 400;
  r.body =
      R"({"error":{"message":"Your request was rejected","type":"invalid_request_error","code":"content_policy_violation"}})";
  EXPECT_EQ(openai::wire_error(r, {}).cls(), ErrorClass::content_policy);
  r.status = 429;
  r.body =
      R"({"error":{"message":"spend","type":"insufficient_quota","code":"organization_spend_limit_exceeded"}})";
  EXPECT_EQ(openai::wire_error(r, {}).cls(), ErrorClass::quota_exceeded);
}

TEST(OpenAIErrors, RetrySignals) {
  HttpResponse r;
  r.headers = {{"retry-after-ms", "1500.5"}, {"retry-after", "9"}};
  EXPECT_EQ(openai::retry_delay(r), 1501ms);
  r.headers = {{"Retry-After", "2.5"}};
  EXPECT_EQ(openai::retry_delay(r), 2500ms);
  r.headers = {{"x-ratelimit-reset-requests", "6m0s"}, {"x-ratelimit-reset-tokens", "12ms"}};
  EXPECT_EQ(openai::retry_delay(r), 360000ms);
  r.headers = {};
  EXPECT_EQ(openai::retry_delay(r), std::nullopt);
  EXPECT_EQ(openai::parse_go_duration("1h2m3.5s"), 3723500ms);
  EXPECT_EQ(openai::parse_go_duration("soon"), std::nullopt);
}

TEST(OpenAIErrors, RetryAfterIsHonouredThenTheCallSucceeds) {
  ProviderHarness h;
  h.fake().fail_next(1, Scripted{Failure::rate_limit, 7000ms});
  auto job = h.run(yaml("", 3), request());
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  EXPECT_EQ(job.items[0].attempts, 2);
  const auto sent = h.fake().received("/v1/images/edits");
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_GE(sent[1].at_ms - sent[0].at_ms, 7000);
  EXPECT_EQ(job.items[0].chain[0]["attempts"], 2);
  EXPECT_EQ(job.items[0].chain[0]["outcome"], "ok");
}

TEST(OpenAIErrors, FiveHundredsAreRetriedThenFail) {
  ProviderHarness h;
  h.fake().fail_next(3, Failure::server_error);
  auto job = h.run(yaml("", 3), request());
  EXPECT_EQ(job.items[0].error_class, ErrorClass::unavailable);
  EXPECT_EQ(job.items[0].attempts, 3);
  EXPECT_EQ(h.fake().received("/v1/images/edits").size(), 3u);
}

TEST(OpenAIErrors, ConnectionResetIsUnavailable) {
  ProviderHarness h;
  h.fake().server().drop_next(1);
  auto job = h.run(yaml(), request());
  EXPECT_EQ(job.items[0].error_class, ErrorClass::unavailable) << job.items[0].error;
  EXPECT_THAT(job.items[0].error, HasSubstr("openai: "));
}

TEST(OpenAIErrors, AnAnswerPastTheTimeoutIsATimeout) {
  ProviderHarness h;
  h.fake().fail_next(1, Scripted{Failure::slow, 0ms, 1500ms});
  auto job = h.run(yaml(", timeout: 0.3"), request());
  EXPECT_EQ(job.items[0].error_class, ErrorClass::timeout) << job.items[0].error;
  EXPECT_THAT(job.items[0].error, HasSubstr("openai: "));
}

}  // namespace
}  // namespace imagepipe::testing
