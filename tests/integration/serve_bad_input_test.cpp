// Every bad input of the daemon's issue: each gets its status and a JSON error naming the
// problem, and the server keeps serving.
#include "serve_fixture.hpp"

namespace imagepipe::testing {
namespace {

class BadInputTest : public ServeTest {
 protected:
  static void SetUpTestSuite() {
    // Small limits so the over-limit cases stay small; one daemon for the whole suite.
    daemon_ = new DaemonProcess(
        {.pipelines = {kWxoOfflineDir},
         .config_yaml =
             "limits: {body_bytes: 65536, image_pixels: 10000, json_string_bytes: 8192}\n"});
  }
  static void TearDownTestSuite() {
    delete daemon_;
    daemon_ = nullptr;
  }
  void TearDown() override {
    // Whatever came before, the server still answers.
    EXPECT_EQ(daemon_->get("/health").status, 200) << daemon_->log();
  }

  // Posts to the b64 tool and returns (status, parsed body).
  std::pair<int, json> post(const std::string& body, Headers headers) {
    auto r = daemon_->post("/process-image-async-b64", body, std::move(headers));
    return {r.status, json::parse(r.body)};
  }
  std::pair<int, json> post(const json& body) { return post(body.dump(), callback_header()); }

  static json problem(std::vector<std::string> loc, std::string msg, std::string type) {
    return {{"loc", loc}, {"msg", msg}, {"type", type}};
  }

  static DaemonProcess* daemon_;
};

DaemonProcess* BadInputTest::daemon_ = nullptr;

TEST_F(BadInputTest, MalformedJson) {
  auto [status, body] = post("{\"prompt\": \"x\", ", callback_header());
  EXPECT_EQ(status, 422);
  ASSERT_EQ(body["detail"].size(), 1u);
  EXPECT_EQ(body["detail"][0]["loc"], json({"body"}));
  EXPECT_EQ(body["detail"][0]["type"], "json_invalid");
  EXPECT_THAT(body["error"].get<std::string>(),
              ::testing::StartsWith("body: malformed JSON: line 1, column 17:"));
}

TEST_F(BadInputTest, BodyThatIsNotAnObject) {
  auto [status, body] = post("[1, 2]", callback_header());
  EXPECT_EQ(status, 422);
  EXPECT_EQ(body["error"], "body: must be a JSON object");
}

TEST_F(BadInputTest, MissingFieldsAreEachNamed) {
  auto [status, body] = post(json{{"filename", "a.png"}});
  EXPECT_EQ(status, 422);
  EXPECT_EQ(body["detail"], json({problem({"body", "prompt"}, "field required", "missing"),
                                  problem({"body", "image_base64"}, "field required", "missing")}));
  EXPECT_EQ(body["error"], "body.prompt: field required; body.image_base64: field required");
}

TEST_F(BadInputTest, WrongTypes) {
  auto [status, body] =
      post(json{{"prompt", 42}, {"filename", true}, {"image_base64", png_base64()}});
  EXPECT_EQ(status, 422);
  EXPECT_EQ(body["error"],
            "body.filename: must be a string, got boolean true; body.prompt: must be a string, got "
            "number 42");
  EXPECT_EQ(body["detail"][0]["type"], "type_error");
}

TEST_F(BadInputTest, MissingCallbackUrl) {
  auto [status, body] = post(b64_request().dump(), {});
  EXPECT_EQ(status, 422);
  EXPECT_EQ(body["detail"],
            json({problem({"header", "callbackUrl"}, "field required", "missing")}));
}

TEST_F(BadInputTest, NestingOverTheLimitIsRefused) {
  const std::string deep = std::string(65, '[') + std::string(65, ']');
  auto [status, body] =
      post(R"({"prompt": )" + deep + R"(, "image_base64": ")" + png_base64() + "\"}",
           callback_header());
  EXPECT_EQ(status, 422);
  EXPECT_EQ(body["error"],
            "body: JSON nested deeper than 64 levels (the limit for request bodies)");
  EXPECT_EQ(body["detail"][0]["type"], "json_invalid");
}

TEST_F(BadInputTest, NestingUpToTheLimitIsOnlyAWrongType) {
  const std::string deep = std::string(63, '[') + std::string(63, ']');
  auto [status, body] =
      post(R"({"prompt": )" + deep + R"(, "image_base64": ")" + png_base64() + "\"}",
           callback_header());
  EXPECT_EQ(status, 422);
  EXPECT_EQ(body["error"], "body.prompt: must be a string, got a list");
}

TEST_F(BadInputTest, StringOverTheLimit) {
  auto [status, body] = post(b64_request(png_base64(), std::string(8193, 'x')));
  EXPECT_EQ(status, 422);
  EXPECT_EQ(body["error"], "body: a string of more than 8192 bytes (the limit for request bodies)");
  EXPECT_EQ(body["detail"][0]["type"], "json_invalid");
}

// The base64 image is the one string that only the body limit bounds.
TEST_F(BadInputTest, ImageFieldIsNotHeldToTheStringLimit) {
  const auto image = base64_encode(encode(photo_like(100, 100), ImageFormat::png));
  ASSERT_GT(image.size(), 8192u);
  auto r = daemon_->post("/process-image-async-b64", b64_request(image).dump(), callback_header());
  EXPECT_EQ(r.status, 202) << r.body;
}

TEST_F(BadInputTest, TooManyMembersOrElements) {
  json many = json::array();
  for (int i = 0; i < 10001; ++i) many.push_back(0);
  auto [status, body] = post(json{{"prompt", "x"}, {"tags", many}, {"image_base64", png_base64()}});
  EXPECT_EQ(status, 422);
  EXPECT_EQ(body["error"],
            "body: more than 10000 members or elements (the limit for request bodies)");
  EXPECT_EQ(body["detail"][0]["type"], "json_invalid");
}

TEST_F(BadInputTest, NumberTooLargeForADouble) {
  auto [status, body] = post(R"({"prompt": 1e999999, "image_base64": "QUJD"})", callback_header());
  EXPECT_EQ(status, 422);
  EXPECT_EQ(body["error"], "body: malformed JSON: number overflow parsing '1e999999'");
}

TEST_F(BadInputTest, InvalidUtf8InAStringField) {
  auto [status, body] =
      post("{\"prompt\": \"caf\xff\xfe\", \"image_base64\": \"" + png_base64() + "\"}",
           callback_header());
  EXPECT_EQ(status, 422);
  EXPECT_EQ(body["detail"][0]["type"], "json_invalid");
  EXPECT_THAT(body["error"].get<std::string>(),
              ::testing::HasSubstr("invalid string: ill-formed UTF-8 byte"));
}

TEST_F(BadInputTest, LongStringIsQuotedShortInTheError) {
  auto [status, body] = post(json{{"prompt", "x"},
                                  {"filename", json::array({std::string(5000, 'y')})},
                                  {"image_base64", png_base64()}});
  EXPECT_EQ(status, 422);
  EXPECT_EQ(body["error"], "body.filename: must be a string, got a list");
  EXPECT_LT(body.dump().size(), 400u);
}

TEST_F(BadInputTest, CallbackUrlToAMetadataAddress) {
  auto [status, body] =
      post(b64_request().dump(), {{"callbackUrl", "http://169.254.169.254/latest/meta-data/"}});
  EXPECT_EQ(status, 422);
  EXPECT_EQ(body["detail"][0]["loc"], json({"header", "callbackUrl"}));
  EXPECT_THAT(body["error"].get<std::string>(), ::testing::HasSubstr("169.254.169.254"));
}

TEST_F(BadInputTest, CallbackUrlThatIsNotAUrl) {
  auto [status, body] = post(b64_request().dump(), {{"callbackUrl", "ftp://example.com/x"}});
  EXPECT_EQ(status, 422);
  EXPECT_EQ(body["detail"][0]["loc"], json({"header", "callbackUrl"}));
}

TEST_F(BadInputTest, InvalidBase64) {
  auto [status, body] = post(b64_request("this is *not* base64!"));
  EXPECT_EQ(status, 422);
  EXPECT_EQ(body["detail"][0]["loc"], json({"body", "image_base64"}));
  EXPECT_THAT(body["error"].get<std::string>(),
              ::testing::StartsWith("body.image_base64: not valid base64: "));
}

TEST_F(BadInputTest, PayloadThatIsNotAnImage) {
  auto [status, body] = post(b64_request(base64_encode("just some text, no image in here")));
  EXPECT_EQ(status, 422);
  EXPECT_EQ(body["detail"][0]["loc"], json({"body", "image_base64"}));
  EXPECT_EQ(body["detail"][0]["type"], "value_error");
}

// The route's pipeline pays a provider for each image: one cut short (its header intact,
// so a header check passes it) is refused at the door, not sent.
TEST_F(BadInputTest, ImageCutInHalfIsRefused) {
  const auto jpeg = encode(photo_like(100, 100), ImageFormat::jpeg);
  auto [status, body] = post(b64_request(base64_encode(jpeg.substr(0, jpeg.size() / 2))));
  EXPECT_EQ(status, 422);
  EXPECT_EQ(body["error"],
            "body.image_base64: truncated or corrupt JPEG: Premature end of JPEG file");
  EXPECT_EQ(body["detail"][0]["type"], "value_error");

  const auto png = encode(photo_like(100, 100), ImageFormat::png);
  std::tie(status, body) = post(b64_request(base64_encode(png.substr(0, png.size() / 2))));
  EXPECT_EQ(status, 422);
  EXPECT_EQ(body["error"], "body.image_base64: truncated or corrupt PNG: unexpected end of data");
}

TEST_F(BadInputTest, ImageOverThePixelLimit) {
  auto [status, body] = post(b64_request(png_base64(200, 100)));  // 20,000 pixels > 10,000
  EXPECT_EQ(status, 422);
  EXPECT_EQ(body["detail"][0]["loc"], json({"body", "image_base64"}));
  EXPECT_THAT(body["error"].get<std::string>(), ::testing::HasSubstr("200x100"));
}

TEST_F(BadInputTest, BodyOverTheLimit) {
  auto [status, body] = post(b64_request(std::string(70000, 'A')));
  EXPECT_EQ(status, 413);
  EXPECT_THAT(
      body["error"].get<std::string>(),
      ::testing::MatchesRegex(
          "request body is [0-9]+ bytes, over the limit of 65536 bytes \\(limits.body_bytes\\)"));
}

// Posts the b64 tool's valid request with `content_type` (none when empty).
HttpResponse post_as(DaemonProcess& daemon, const std::string& content_type,
                     const std::string& callback) {
  Headers headers{{"callbackUrl", callback}};
  if (!content_type.empty()) headers.emplace_back("Content-Type", content_type);
  return daemon.request({.method = "POST",
                         .url = daemon.url("/process-image-async-b64"),
                         .headers = std::move(headers),
                         .body = b64_request().dump()});
}

// A 415 names what came and what would have been taken.
void expect_unsupported(const HttpResponse& r, const std::string& error, const json& received) {
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(json::parse(r.body), json({{"error", error},
                                       {"received", received},
                                       {"accepted", {"application/json", "application/*+json"}}}));
}

TEST_F(BadInputTest, TextPlainBodyIsAnUnsupportedMediaType) {
  expect_unsupported(post_as(*daemon_, "text/plain", receiver_.url("/callback")),
                     "Content-Type 'text/plain' is not accepted here; send application/json (or "
                     "application/*+json)",
                     "text/plain");
}

TEST_F(BadInputTest, FormBodyIsAnUnsupportedMediaType) {
  const std::string form = "application/x-www-form-urlencoded";
  expect_unsupported(post_as(*daemon_, form, receiver_.url("/callback")),
                     "Content-Type '" + form +
                         "' is not accepted here; send application/json (or application/*+json)",
                     form);
}

TEST_F(BadInputTest, BodyWithoutContentTypeIsAnUnsupportedMediaType) {
  expect_unsupported(post_as(*daemon_, "", receiver_.url("/callback")),
                     "request has a body but no Content-Type; send application/json (or "
                     "application/*+json)",
                     nullptr);
}

TEST_F(BadInputTest, JsonMediaTypesWithParametersAreAccepted) {
  for (const std::string type : {"Application/JSON; charset=utf-8", "application/vnd.api+json"})
    EXPECT_EQ(post_as(*daemon_, type, receiver_.url("/callback")).status, 202) << type;
}

TEST_F(BadInputTest, UnknownRoute) {
  auto r = daemon_->get("/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body), json({{"error", "no route for GET /nope"}}));
  EXPECT_EQ(r.header("Content-Type"), "application/json");
}

TEST_F(BadInputTest, WrongMethod) {
  auto r = daemon_->get("/process-image-async-b64");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(
      json::parse(r.body),
      json({{"error", "method GET is not allowed on /process-image-async-b64; allowed: POST"}}));
  EXPECT_EQ(r.header("Allow"), "POST");
}

TEST_F(BadInputTest, UnknownJob) {
  auto r = daemon_->get("/jobs/00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body),
            json({{"error", "no job with id '00000000-0000-4000-8000-000000000000'"}}));
}

TEST_F(BadInputTest, RequestIdIsKeptAndReturned) {
  auto r = daemon_->request({.method = "POST",
                             .url = daemon_->url("/process-image-async-b64"),
                             .headers = {{"X-Request-ID", "trace-abc-123"},
                                         {"callbackUrl", receiver_.url("/callback")},
                                         {"Content-Type", "application/json"}},
                             .body = b64_request().dump()});
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.header("X-Request-ID"), "trace-abc-123");
  auto job =
      json::parse(daemon_->get("/jobs/" + json::parse(r.body)["job_id"].get<std::string>()).body);
  EXPECT_EQ(job["request_id"], "trace-abc-123");
  // One is made up when the client sent none.
  EXPECT_TRUE(daemon_->get("/health").header("X-Request-ID"));
}

// One request used to kill the daemon: describing the bad value for the 422 walked it
// recursively, 100,000 levels deep, and overflowed the stack. With the default limits,
// so the 200 KB body is read in full.
TEST_F(ServeTest, ValueNested100000DeepIsRefusedAndTheServerLives) {
  DaemonProcess daemon({.pipelines = {kWxoOfflineDir}});
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const auto r = daemon.post("/process-image-async-b64",
                             R"({"prompt": )" + deep + R"(, "image_base64": ")" + png_base64() + "\"}",
                             callback_header());
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(json::parse(r.body)["error"],
            "body: JSON nested deeper than 64 levels (the limit for request bodies)");
  EXPECT_EQ(daemon.get("/health").status, 200) << daemon.log();
  // And the same value where the fast path would not look: a member before the image.
  const auto again = daemon.post("/process-image-async-b64",
                                 R"({"meta": )" + deep + R"(, "prompt": "x", "image_base64": ")" +
                                     png_base64() + "\"}",
                                 callback_header());
  EXPECT_EQ(again.status, 422) << again.body;
  EXPECT_EQ(daemon.get("/health").status, 200) << daemon.log();
}

}  // namespace
}  // namespace imagepipe::testing
