// BFL's statuses and error bodies onto error classes, and the submit body.
#include <gtest/gtest.h>

#include "flux_wire.hpp"

namespace imagepipe::flux {
namespace {

using nlohmann::json;

TEST(FluxWire, StatusesAreComparedExactly) {
  EXPECT_EQ(poll_state("Pending"), PollState::pending);
  EXPECT_EQ(poll_state("Ready"), PollState::ready);
  EXPECT_EQ(poll_state("Request Moderated"), PollState::moderated);
  EXPECT_EQ(poll_state("Content Moderated"), PollState::moderated);
  EXPECT_EQ(poll_state("Error"), PollState::failed);
  EXPECT_EQ(poll_state("Failed"), PollState::failed);
  EXPECT_EQ(poll_state("Task not found"), PollState::not_found);
  EXPECT_EQ(poll_state("request_moderated"), PollState::unknown);
}

TEST(FluxWire, ErrorBodies) {
  HttpResponse r;
  r.status = 422;
  r.body =
      R"({"detail":[{"loc":["body","width"],"msg":"Input should be less than or equal to 1440","type":"less_than_equal"}]})";
  Error e = wire_error(r, "submit to flux-dev");
  EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
  EXPECT_STREQ(
      e.what(),
      "submit to flux-dev: body.width: Input should be less than or equal to 1440 (HTTP 422)");
  r.status = 402;
  r.body = R"({"detail":"Insufficient credits"})";
  EXPECT_EQ(wire_error(r, "x").cls(), ErrorClass::quota_exceeded);
  r.status = 429;
  r.headers = {{"Retry-After", "5"}};
  r.body = R"({"error":"rate_limit_exceeded","message":"slow down","retry_after":5})";
  e = wire_error(r, "x");
  EXPECT_EQ(e.cls(), ErrorClass::rate_limited);
  EXPECT_EQ(e.retry_after(), std::chrono::milliseconds(5000));
  EXPECT_STREQ(e.what(), "x: slow down (HTTP 429)");
  r.status = 403;
  r.body = "Not authenticated";
  EXPECT_EQ(wire_error(r, "x").cls(), ErrorClass::unauthorized);
  r.status = 503;
  EXPECT_EQ(wire_error(r, "x").cls(), ErrorClass::unavailable);
}

TEST(FluxWire, SubmitBodyFromOptionsAndItemParams) {
  const json options = {
      {"seed", 1}, {"width", 1024}, {"height", 768}, {"output_format", "png"}, {"model", "x"}};
  const json body = submit_body("a car", options, {{"seed", 7}, {"size", "512x512"}}, "aGVsbG8=");
  const json expected = {{"prompt", "a car"},      {"seed", 7},
                         {"width", 512},           {"height", 512},
                         {"output_format", "png"}, {"input_image", "aGVsbG8="}};
  EXPECT_EQ(body, expected);
  EXPECT_THROW(submit_body("x", options, {{"size", "big"}}, ""), Error);
  EXPECT_TRUE(takes_input_image("flux-kontext-pro"));
  EXPECT_TRUE(takes_input_image("flux-2-pro"));
  EXPECT_FALSE(takes_input_image("flux-pro-1.1"));
}

}  // namespace
}  // namespace imagepipe::flux
