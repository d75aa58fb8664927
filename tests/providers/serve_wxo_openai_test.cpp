// The watsonx Orchestrate tools as shipped, served by the real daemon with OpenAI pointed
// at the fake: the edit comes from OpenAI, the billing limit falls back to the seeds'
// local result, and GET /providers lists the chain's providers with their capabilities.
#include "fakes/fake_upstream.hpp"
#include "serve_fixture.hpp"

namespace imagepipe::testing {
namespace {

class ServeOpenAITest : public ServeTest {
 protected:
  DaemonOptions options() {
    return {.pipelines = {kWxoDir},
            .env = {{"OPENAI_API_KEY", fake_.openai_key}, {"OPENAI_BASE_URL", fake_.openai_base()}},
            .test_plugins = false};
  }
  FakeUpstream fake_;
};

TEST_F(ServeOpenAITest, Base64ToolReturnsOpenAIsEdit) {
  DaemonProcess daemon(options());
  accept(daemon, "/process-image-async-b64", b64_request());
  ASSERT_TRUE(receiver_.wait_for_requests(1, std::chrono::seconds(30))) << daemon.log();
  const auto body = callbacks()[0];
  EXPECT_EQ(body["status"], "completed");
  EXPECT_FALSE(body.contains("error"));
  const auto result = decode_image(base64_decode(body["result_image_base64"].get<std::string>()));
  EXPECT_EQ(pixel(result, 0, 0), (std::vector<std::uint8_t>{200, 40, 40}));  // the fake's edit
  const auto sent = fake_.received("/v1/images/edits");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].part("model")->value, "gpt-image-1");
  EXPECT_EQ(sent[0].part("quality")->value, "medium");  // the seeds' code's default
  EXPECT_EQ(sent[0].part("output_format")->value, "png");
  EXPECT_EQ(sent[0].part("image")->filename, "burger.png");  // the upload is a PNG
  EXPECT_EQ(daemon.log().find(fake_.openai_key), std::string::npos);
}

TEST_F(ServeOpenAITest, BillingLimitFallsBackAndTheCallbackSaysSo) {
  fake_.fail_next(1, Failure::billing_limit);
  DaemonProcess daemon(options());
  accept(daemon, "/process-image-async-b64", b64_request());
  ASSERT_TRUE(receiver_.wait_for_requests(1, std::chrono::seconds(30))) << daemon.log();
  const auto body = callbacks()[0];
  // The seeds' README: no job failure unless both OpenAI and the fallback fail.
  EXPECT_EQ(body["status"], "completed");
  EXPECT_FALSE(body.contains("error")) << body.dump();
  EXPECT_EQ(fake_.received("/v1/images/edits").size(), 1u);
  const auto result = decode_image(base64_decode(body["result_image_base64"].get<std::string>()));
  EXPECT_EQ(pixel(result, 0, 0), (std::vector<std::uint8_t>{55, 225, 195}));  // the local fallback
}

TEST_F(ServeOpenAITest, ProvidersListingShowsTheChainAndCapabilities) {
  DaemonProcess daemon(options());
  const auto r = daemon.get("/providers");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto body = json::parse(r.body);
  ASSERT_EQ(body["providers"].size(), 2u);
  const auto& local = body["providers"][0];
  const auto& openai = body["providers"][1];
  EXPECT_EQ(local["name"], "local");
  EXPECT_EQ(openai["name"], "openai");
  EXPECT_EQ(openai["capabilities"]["operations"], json({"generate", "edit", "respond", "text"}));
  EXPECT_EQ(openai["capabilities"]["max_images_per_request"], 10);
  EXPECT_EQ(openai["used_by"].size(), 3u);
  EXPECT_EQ(openai["used_by"][0]["position"], 0);
  EXPECT_EQ(openai["used_by"][0]["fall_through_on"], json({"billing_limit"}));
  EXPECT_EQ(r.body.find(fake_.openai_key), std::string::npos);
}

}  // namespace
}  // namespace imagepipe::testing
