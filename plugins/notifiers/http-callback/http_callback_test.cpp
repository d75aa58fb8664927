#include <openssl/hmac.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <spdlog/spdlog.h>

#include "imagepipe/http_client.hpp"
#include "imagepipe/plugin.hpp"
#include "imagepipe/registry.hpp"
#include "support/http_test_server.hpp"

namespace imagepipe::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const json kScope = {
    {"job",
     {{"id", "550e8400-e29b-41d4-a716-446655440000"}, {"status", "completed"}, {"error", ""}}},
    {"request", {{"body", {{"filename", "burger.jpeg"}}}, {"headers", json::object()}}},
    {"items", {{{"base64", "aGVsbG8="}, {"mime", "image/png"}}}},
    {"metrics", {{"processed", 1}, {"errors", json::array()}}}};

class HttpCallbackTest : public ::testing::Test {
 protected:
  HttpCallbackTest() {
    register_builtin_plugins(registry_);
    receiver_.on("POST", "*",
                 TestResponse{.status = 200, .body = R"({"ok": true})"});  // tests override it
    HttpClientOptions options;
    options.proxy = ProxySettings{};
    http_ = std::make_unique<BeastHttpClient>(io_.get_executor(), options);
    host_.log = spdlog::default_logger();
    host_.clock = &clock_;
    host_.http = http_.get();
  }

  // Builds the plugin from `with` (validated as the loader would) and runs one notify.
  void notify(json with, json scope = kScope) {
    const auto* plugin = registry_.find(PluginKind::notifier, "http-callback");
    ASSERT_NE(plugin, nullptr);
    auto check = check_options(*plugin->descriptor, with);
    ASSERT_TRUE(check.ok()) << check.issues.front().message;
    auto notifier =
        std::get<NotifierFactory>(plugin->descriptor->factory)(PluginArgs{host_, check.options});
    std::exception_ptr error;
    Notification n{kScope["job"]["id"], &scope, spdlog::default_logger()};
    asio::co_spawn(io_, notifier->notify(n), [&](std::exception_ptr e) { error = e; });
    io_.run();
    io_.restart();
    if (error) std::rethrow_exception(error);
  }

  Error failure(json with) {
    try {
      notify(std::move(with));
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "expected the callback to fail";
    return Error(ErrorClass::internal, "");
  }

  HttpTestServer receiver_;
  asio::io_context io_;
  SystemClock clock_;
  PluginRegistry registry_;
  std::unique_ptr<BeastHttpClient> http_;
  Host host_;
};

std::string hmac_hex(const std::string& key, const std::string& body) {
  unsigned char mac[32];
  unsigned size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &size);
  std::string out;
  char buf[3];
  for (unsigned i = 0; i < size; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", mac[i]);
    out += buf;
  }
  return out;
}

TEST_F(HttpCallbackTest, PostsTheRenderedBodyWithIdempotencyHeadersAndSignature) {
  notify({{"url", receiver_.url("/callback")},
          {"signing_secret", "s3cret-shared"},
          {"body",
           {{"status", "${job.status}"},
            {"job_id", "${job.id}"},
            {"filename", "${request.body.filename}"},
            {"result_image_base64", "${items[0].base64}"},
            {"result_mime_type", "${items[0].mime}"}}}});
  ASSERT_EQ(receiver_.request_count(), 1u);
  const auto r = receiver_.requests()[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/callback");
  EXPECT_EQ(json::parse(r.body), json({{"status", "completed"},
                                       {"job_id", "550e8400-e29b-41d4-a716-446655440000"},
                                       {"filename", "burger.jpeg"},
                                       {"result_image_base64", "aGVsbG8="},
                                       {"result_mime_type", "image/png"}}));
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(r.header("Idempotency-Key"), "550e8400-e29b-41d4-a716-446655440000");
  EXPECT_EQ(r.header("X-Imagepipe-Job-Id"), "550e8400-e29b-41d4-a716-446655440000");
  EXPECT_EQ(r.header("X-Imagepipe-Signature"), "sha256=" + hmac_hex("s3cret-shared", r.body));
}

TEST_F(HttpCallbackTest, SendsTheRenderedExtraHeaders) {
  // (The sanitizer build once caught these being read from a temporary already gone.)
  notify({{"url", receiver_.url("/cb")},
          {"headers",
           {{"X-Filename", "${request.body.filename}"}, {"X-Processed", "${metrics.processed}"}}}});
  const auto r = receiver_.requests()[0];
  EXPECT_EQ(r.header("X-Filename"), "burger.jpeg");
  EXPECT_EQ(r.header("X-Processed"), "1");
  EXPECT_EQ(r.header("Idempotency-Key"), "550e8400-e29b-41d4-a716-446655440000");
}

TEST_F(HttpCallbackTest, NoSignatureWithoutASecret) {
  notify({{"url", receiver_.url("/cb")}});
  EXPECT_FALSE(receiver_.requests()[0].header("X-Imagepipe-Signature"));
  auto body = json::parse(receiver_.requests()[0].body);
  EXPECT_EQ(body["job_id"], "550e8400-e29b-41d4-a716-446655440000");
  EXPECT_EQ(body["status"], "completed");
}

TEST_F(HttpCallbackTest, OmitsEmptyFieldsAndMapsValuesWhenAsked) {
  json scope = kScope;
  scope["job"]["status"] = "completed_with_errors";
  notify(
      {{"url", receiver_.url("/cb")},
       {"omit_empty", true},
       {"map_values", {{"status", {{"completed_with_errors", "completed"}}}}},
       {"body",
        {{"status", "${job.status}"}, {"error", "${job.error}"}, {"missing", "${items[3].url}"}}}},
      scope);
  EXPECT_EQ(json::parse(receiver_.requests()[0].body), json({{"status", "completed"}}));
}

TEST_F(HttpCallbackTest, ServerErrorsAreUnavailable) {
  receiver_.on("POST", "/cb", TestResponse{.status = 503});
  auto e = failure({{"url", receiver_.url("/cb?token=secret")}});
  EXPECT_EQ(e.cls(), ErrorClass::unavailable);
  // The query (often a token) never reaches a message.
  EXPECT_EQ(std::string(e.what()), "callback to " + receiver_.url("/cb") + " answered HTTP 503");
}

TEST_F(HttpCallbackTest, TooManyRequestsCarriesRetryAfter) {
  receiver_.on("POST", "/cb", TestResponse{.status = 429, .headers = {{"Retry-After", "7"}}});
  auto e = failure({{"url", receiver_.url("/cb")}});
  EXPECT_EQ(e.cls(), ErrorClass::rate_limited);
  ASSERT_TRUE(e.retry_after());
  EXPECT_EQ(*e.retry_after(), 7000ms);
}

TEST_F(HttpCallbackTest, ClientErrorsAreFinal) {
  receiver_.on("POST", "/cb", TestResponse{.status = 410});
  auto e = failure({{"url", receiver_.url("/cb")}});
  EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
  EXPECT_EQ(std::string(e.what()), "callback to " + receiver_.url("/cb") + " answered HTTP 410");
}

TEST_F(HttpCallbackTest, AMetadataAddressIsNeverCalled) {
  auto e = failure({{"url", "http://169.254.169.254/latest/meta-data/"}});
  EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
  EXPECT_THAT(e.what(), ::testing::HasSubstr("169.254.169.254"));
}

TEST_F(HttpCallbackTest, AnEmptyUrlSendsNothing) {
  notify({{"url", "${request.headers.callbackUrl}"}});
  EXPECT_EQ(receiver_.request_count(), 0u);
}

}  // namespace
}  // namespace imagepipe::testing
