#include <sstream>
#include <thread>

#include <gmock/gmock.h>

#include "client_fixture.hpp"  // first: it includes imagepipe/asio.hpp

#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>
#include <boost/asio/ip/tcp.hpp>

namespace imagepipe::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// A loopback port with nothing listening.
std::uint16_t closed_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

class HttpClientTest : public ClientTest {
 protected:
  HttpTestServer server_;
  std::string authority() const { return "127.0.0.1:" + std::to_string(server_.port()); }
};

TEST_F(HttpClientTest, GetReturnsStatusHeadersAndBody) {
  server_.on("GET", "/hello", TestResponse{.headers = {{"X-Answer", "42"}}, .body = "hi there"});
  const HttpResponse r = get(server_.url("/hello?name=fox"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hi there");
  EXPECT_EQ(r.header("x-answer"), "42");

  ASSERT_EQ(server_.request_count(), 1u);
  const RecordedRequest seen = server_.requests()[0];
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.target, "/hello?name=fox");
  EXPECT_EQ(seen.header("Host"), authority());
  EXPECT_EQ(seen.header("User-Agent"), "imagepipe/0.1");
  EXPECT_EQ(seen.header("Content-Length"), std::nullopt);
  EXPECT_EQ(seen.body, "");
}

TEST_F(HttpClientTest, PostSendsBinaryBodyAndHeaders) {
  server_.on("POST", "/upload", [](const RecordedRequest& r) {
    return TestResponse{.status = 201, .body = std::to_string(r.body.size())};
  });
  const std::string body("\x89PNG\0\r\n\xff", 8);
  const HttpResponse r = send({.method = "post",
                               .url = server_.url("/upload"),
                               .headers = {{"Content-Type", "image/png"}, {"X-Trace", "t1"}},
                               .body = body});
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, "8");
  const RecordedRequest seen = server_.requests().at(0);
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.body, body);
  EXPECT_EQ(seen.header("Content-Length"), "8");
  EXPECT_EQ(seen.header("Content-Type"), "image/png");
  EXPECT_EQ(seen.header("X-Trace"), "t1");
}

TEST_F(HttpClientTest, ErrorStatusesCompleteNormally) {
  server_.on("GET", "/broken", TestResponse{.status = 503, .body = "{\"error\":\"busy\"}"});
  const HttpResponse r = get(server_.url("/broken"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "{\"error\":\"busy\"}");
}

TEST_F(HttpClientTest, HeadReadsNoBodyAndKeepsTheConnection) {
  server_.on("*", "/file", TestResponse{.body = "12345"});
  const HttpResponse head = send({.method = "HEAD", .url = server_.url("/file")});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), "5");
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(get(server_.url("/file")).body, "12345");
  EXPECT_EQ(server_.connections_accepted(), 1u);
}

TEST_F(HttpClientTest, ReusesKeepAliveConnections) {
  server_.on("GET", "/n", TestResponse{.body = "ok"});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get(server_.url("/n")).body, "ok");
  EXPECT_EQ(server_.connections_accepted(), 1u);
  const HttpClientStats stats = client().stats();
  EXPECT_EQ(stats.connections_opened, 1u);
  EXPECT_EQ(stats.connections_reused, 2u);
  EXPECT_EQ(stats.idle_connections, 1u);
}

TEST_F(HttpClientTest, DoesNotReuseAConnectionTheServerCloses) {
  server_.on("GET", "/bye", TestResponse{.body = "bye", .close = true});
  get(server_.url("/bye"));
  get(server_.url("/bye"));
  EXPECT_EQ(server_.connections_accepted(), 2u);
  EXPECT_EQ(client().stats().connections_reused, 0u);
}

TEST_F(HttpClientTest, IdleConnectionsAreCappedPerOrigin) {
  auto options = test_client_options();
  options.max_idle_per_origin = 0;
  use_options(options);
  server_.on("GET", "/n", TestResponse{});
  get(server_.url("/n"));
  get(server_.url("/n"));
  EXPECT_EQ(server_.connections_accepted(), 2u);
  EXPECT_EQ(client().stats().idle_connections, 0u);
}

TEST_F(HttpClientTest, RetriesIdempotentRequestOnceWhenAReusedConnectionDies) {
  server_.on("GET", "/n", TestResponse{.body = "ok"});
  get(server_.url("/n"));
  server_.drop_next(1);  // the pooled connection fails on its next request
  EXPECT_EQ(get(server_.url("/n")).body, "ok");
  EXPECT_EQ(server_.request_count(), 3u);
  EXPECT_EQ(server_.connections_accepted(), 2u);
  EXPECT_EQ(client().stats().stale_retries, 1u);
}

TEST_F(HttpClientTest, DoesNotResendPostOnADeadReusedConnection) {
  server_.on("*", "/n", TestResponse{.body = "ok"});
  get(server_.url("/n"));
  server_.drop_next(1);
  const Error e = failure({.method = "POST", .url = server_.url("/n?sig=s3cr3t"), .body = "x"});
  EXPECT_EQ(e.cls(), ErrorClass::unavailable);
  EXPECT_THAT(e.what(), StartsWith("connection to " + authority() +
                                   " closed before a response to POST http://" + authority() +
                                   "/n was received ("));
  EXPECT_THAT(e.what(), Not(HasSubstr("s3cr3t")));
  EXPECT_EQ(server_.request_count(), 2u);
}

TEST_F(HttpClientTest, FreshConnectionDroppedIsUnavailableWithoutRetry) {
  server_.drop_next(1);
  const Error e = failure({.url = server_.url("/x")});
  EXPECT_EQ(e.cls(), ErrorClass::unavailable);
  EXPECT_THAT(e.what(), StartsWith("connection to " + authority() + " closed before a response"));
  EXPECT_EQ(server_.request_count(), 1u);
}

TEST_F(HttpClientTest, FollowsRelativeRedirects) {
  server_.on("GET", "/a", TestResponse{.status = 302, .headers = {{"Location", "b?x=1"}}});
  server_.on("GET", "/b", TestResponse{.body = "landed"});
  const HttpResponse r = get(server_.url("/a"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "landed");
  ASSERT_EQ(server_.request_count(), 2u);
  EXPECT_EQ(server_.requests()[1].target, "/b?x=1");
}

TEST_F(HttpClientTest, SeeOtherTurnsPostIntoGet) {
  server_.on("POST", "/submit", TestResponse{.status = 303, .headers = {{"Location", "/result"}}});
  server_.on("GET", "/result", TestResponse{.body = "done"});
  const HttpResponse r = send({.method = "POST",
                               .url = server_.url("/submit"),
                               .headers = {{"Content-Type", "application/json"}},
                               .body = "{}"});
  EXPECT_EQ(r.body, "done");
  const RecordedRequest second = server_.requests().at(1);
  EXPECT_EQ(second.method, "GET");
  EXPECT_EQ(second.body, "");
  EXPECT_EQ(second.header("Content-Type"), std::nullopt);
}

TEST_F(HttpClientTest, TemporaryRedirectKeepsMethodAndBody) {
  server_.on("PUT", "/old", TestResponse{.status = 307, .headers = {{"Location", "/new"}}});
  server_.on("PUT", "/new", [](const RecordedRequest& r) { return TestResponse{.body = r.body}; });
  EXPECT_EQ(send({.method = "PUT", .url = server_.url("/old"), .body = "payload"}).body, "payload");
  EXPECT_EQ(server_.requests().at(1).method, "PUT");
}

TEST_F(HttpClientTest, ZeroMaxRedirectsReturnsTheRedirect) {
  server_.on("GET", "/a", TestResponse{.status = 301, .headers = {{"Location", "/b"}}});
  const HttpResponse r = send({.url = server_.url("/a"), .max_redirects = 0});
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(r.header("Location"), "/b");
  EXPECT_EQ(server_.request_count(), 1u);
}

TEST_F(HttpClientTest, RedirectLoopStopsAtTheLimit) {
  server_.on("GET", "/loop", TestResponse{.status = 302, .headers = {{"Location", "/loop"}}});
  const Error e = failure({.url = server_.url("/loop?t=1"), .max_redirects = 3});
  EXPECT_EQ(e.cls(), ErrorClass::unavailable);
  EXPECT_EQ(std::string(e.what()), "too many redirects: GET http://" + authority() +
                                       "/loop redirected more than 3 times (max_redirects)");
  EXPECT_EQ(server_.request_count(), 4u);
}

TEST_F(HttpClientTest, CredentialsDoNotFollowARedirectToAnotherOrigin) {
  HttpTestServer other;
  other.on("GET", "/landing", TestResponse{.body = "other"});
  server_.on("GET", "/same", TestResponse{.status = 302, .headers = {{"Location", "/next"}}});
  server_.on("GET", "/next",
             TestResponse{.status = 302, .headers = {{"Location", other.url("/landing")}}});
  const HttpResponse r = send(
      {.url = server_.url("/same"),
       .headers = {{"Authorization", "Bearer sk-secret"}, {"api-key", "k"}, {"X-Trace", "t"}}});
  EXPECT_EQ(r.body, "other");
  EXPECT_EQ(server_.requests().at(1).header("Authorization"), "Bearer sk-secret");
  const RecordedRequest there = other.requests().at(0);
  EXPECT_EQ(there.header("Authorization"), std::nullopt);
  EXPECT_EQ(there.header("api-key"), std::nullopt);
  EXPECT_EQ(there.header("X-Trace"), "t");
}

TEST_F(HttpClientTest, UserinfoBecomesBasicAuthAndNeverAppearsInErrors) {
  server_.on("GET", "/private", TestResponse{});
  get("http://alice:s%40fe@" + authority() + "/private");
  EXPECT_EQ(server_.requests().at(0).header("Authorization"),
            "Basic " + base64_encode("alice:s@fe"));

  const std::string refused = "127.0.0.1:" + std::to_string(closed_port());
  const Error e = failure({.url = "http://alice:hunter2@" + refused + "/p?X-Amz-Signature=abc"});
  EXPECT_THAT(e.what(), Not(HasSubstr("hunter2")));
  EXPECT_THAT(e.what(), Not(HasSubstr("alice")));
  EXPECT_THAT(e.what(), Not(HasSubstr("X-Amz-Signature")));
}

TEST_F(HttpClientTest, LogsMethodAndRedactedUrlOnly) {
  std::ostringstream out;
  auto options = test_client_options();
  options.log = std::make_shared<spdlog::logger>(
      "http", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  options.log->set_level(spdlog::level::debug);
  options.log->set_pattern("%v");
  use_options(options);
  server_.on("POST", "/v1/edit", TestResponse{.status = 202});
  send({.method = "POST",
        .url = "http://user:pw@" + authority() + "/v1/edit?sig=qs-secret",
        .headers = {{"Authorization", "Bearer sk-secret"}, {"api-key", "key-secret"}},
        .body = "body-secret"});
  const std::string log = out.str();
  EXPECT_THAT(log, StartsWith("http POST http://" + authority() + "/v1/edit -> 202 ("));
  for (const char* secret : {"qs-secret", "sk-secret", "key-secret", "body-secret", "pw@"}) {
    EXPECT_THAT(log, Not(HasSubstr(secret)));
  }
}

TEST_F(HttpClientTest, DeadlineGivesTimeoutQuickly) {
  server_.on("GET", "/slow", TestResponse{.body = "late", .delay = 10s});
  const auto start = std::chrono::steady_clock::now();
  const Error e = failure({.url = server_.url("/slow?k=v"), .timeout = 200ms});
  EXPECT_EQ(e.cls(), ErrorClass::timeout);
  EXPECT_EQ(std::string(e.what()), "GET http://" + authority() + "/slow timed out after 0.2s");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(HttpClientTest, DeadlineSpansRedirects) {
  server_.on("GET", "/a",
             TestResponse{.status = 302, .headers = {{"Location", "/b"}}, .delay = 150ms});
  server_.on("GET", "/b", TestResponse{.delay = 150ms});
  const Error e = failure({.url = server_.url("/a"), .timeout = 250ms});
  EXPECT_EQ(e.cls(), ErrorClass::timeout);
  EXPECT_EQ(std::string(e.what()), "GET http://" + authority() + "/b timed out after 0.25s");
}

TEST_F(HttpClientTest, ConnectionRefusedIsUnavailable) {
  const std::string refused = "127.0.0.1:" + std::to_string(closed_port());
  const Error e = failure({.url = "http://" + refused + "/x"});
  EXPECT_EQ(e.cls(), ErrorClass::unavailable);
  EXPECT_EQ(std::string(e.what()), "cannot connect to " + refused + ": Connection refused");
}

TEST_F(HttpClientTest, ConnectTimeoutIsReportedAsSuch) {
  // A listener that never accepts, with its backlog full: further SYNs go unanswered.
  asio::io_context io;
  asio::ip::tcp::acceptor listener(io);
  const asio::ip::tcp::endpoint loopback(asio::ip::make_address("127.0.0.1"), 0);
  listener.open(loopback.protocol());
  listener.bind(loopback);
  listener.listen(0);
  asio::ip::tcp::socket filler(io);
  filler.connect(listener.local_endpoint());  // queued, never accepted: the queue is full
  const std::string target = "127.0.0.1:" + std::to_string(listener.local_endpoint().port());
  const auto start = std::chrono::steady_clock::now();
  const Error e =
      failure({.url = "http://" + target + "/", .timeout = 5s, .connect_timeout = 300ms});
  EXPECT_EQ(e.cls(), ErrorClass::timeout);
  EXPECT_EQ(std::string(e.what()), "connecting to " + target + " timed out after 0.3s");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(HttpClientTest, UnknownHostIsUnavailable) {
  const Error e = failure({.url = "http://no-such-host.invalid/x"});
  EXPECT_EQ(e.cls(), ErrorClass::unavailable);
  EXPECT_THAT(e.what(), StartsWith("cannot connect to no-such-host.invalid:80: "));
}

TEST_F(HttpClientTest, RefusesMetadataAddressWithoutConnecting) {
  const auto start = std::chrono::steady_clock::now();
  const Error e = failure({.url = "http://169.254.169.254/latest/meta-data/iam?token=t"});
  EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
  EXPECT_EQ(std::string(e.what()),
            "refusing to connect to 169.254.169.254 (link-local/metadata address) for "
            "http://169.254.169.254:80/latest/meta-data/iam");
  EXPECT_EQ(client().stats().connections_opened, 0u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

TEST_F(HttpClientTest, RefusesMetadataAddressSpelledAsANumber) {
  // 2852039166 == 169.254.169.254; the resolver accepts the number, and the URL parser reads
  // it as that address before the policy judges it (and before any resolution).
  const Error e = failure({.url = "http://2852039166/latest"});
  EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
  EXPECT_EQ(std::string(e.what()),
            "refusing to connect to 169.254.169.254 (link-local/metadata address) for "
            "http://169.254.169.254:80/latest");
  EXPECT_EQ(client().stats().connections_opened, 0u);
}

TEST_F(HttpClientTest, RefusesRedirectToMetadataAddress) {
  server_.on("GET", "/go",
             TestResponse{.status = 302,
                          .headers = {{"Location", "http://169.254.169.254/latest/meta-data"}}});
  const Error e = failure({.url = server_.url("/go")});
  EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
  EXPECT_EQ(std::string(e.what()),
            "refusing to connect to 169.254.169.254 (link-local/metadata address) for "
            "http://169.254.169.254:80/latest/meta-data");
  EXPECT_EQ(client().stats().connections_opened, 1u);
}

TEST_F(HttpClientTest, AllowListRefusesOtherHostsBeforeConnecting) {
  auto options = test_client_options();
  options.egress.allow = {"api.example.com"};
  use_options(options);
  const Error e = failure({.url = server_.url("/x")});
  EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
  EXPECT_EQ(std::string(e.what()), "host 127.0.0.1 is not in the egress allow-list");
  EXPECT_EQ(server_.connections_accepted(), 0u);
  EXPECT_EQ(client().stats().connections_opened, 0u);
}

TEST_F(HttpClientTest, AllowListAdmitsNamesAndRanges) {
  server_.on("GET", "/x", TestResponse{.body = "in"});
  auto options = test_client_options();
  options.egress.allow = {"localhost"};
  use_options(options);
  EXPECT_EQ(get("http://localhost:" + std::to_string(server_.port()) + "/x").body, "in");

  options.egress.allow = {"127.0.0.0/8"};
  use_options(options);
  EXPECT_EQ(get(server_.url("/x")).body, "in");

  options.egress.allow = {"10.0.0.0/8"};
  use_options(options);
  const Error e = failure({.url = "http://localhost:" + std::to_string(server_.port()) + "/x"});
  // Which address is named first depends on the machine's hosts file.
  EXPECT_THAT(std::string(e.what()),
              AnyOf("host localhost (127.0.0.1) is not in the egress allow-list",
                    "host localhost (::1) is not in the egress allow-list"));
}

TEST_F(HttpClientTest, DenyPrivateRefusesLoopback) {
  auto options = test_client_options();
  options.egress.deny_private = true;
  use_options(options);
  const Error e = failure({.url = server_.url("/x")});
  EXPECT_EQ(std::string(e.what()),
            "refusing to connect to 127.0.0.1 (private/loopback address) for http://" +
                authority() + "/x");
  EXPECT_EQ(server_.connections_accepted(), 0u);
}

TEST_F(HttpClientTest, ResponseBodyCap) {
  auto options = test_client_options();
  options.max_response_bytes = 1000;
  use_options(options);
  server_.on("GET", "/fits", TestResponse{.body = std::string(1000, 'a')});
  server_.on("GET", "/big", TestResponse{.body = std::string(1001, 'a')});
  EXPECT_EQ(get(server_.url("/fits")).body.size(), 1000u);
  const Error e = failure({.url = server_.url("/big")});
  EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
  EXPECT_EQ(std::string(e.what()),
            "response to GET http://" + authority() +
                "/big is larger than the limit of 1000 bytes (max_response_bytes)");
}

TEST_F(HttpClientTest, RefusesMalformedRequestsBeforeSending) {
  EXPECT_EQ(
      std::string(failure({.url = "ftp://files.example/x"}).what()),
      "unsupported URL scheme 'ftp' in 'ftp://files.example/x' (only http and https are allowed)");
  EXPECT_EQ(
      std::string(
          failure({.url = server_.url("/x"), .headers = {{"X-A", "1\r\nX-Injected: 1"}}}).what()),
      "invalid value for header 'X-A': contains a line break or NUL");
  EXPECT_EQ(std::string(failure({.method = "GET /evil", .url = server_.url("/x")}).what()),
            "invalid HTTP method 'GET /EVIL'");
  EXPECT_EQ(server_.request_count(), 0u);
}

TEST_F(HttpClientTest, ServesConcurrentRequestsFromSeveralThreads) {
  server_.on("GET", "/n", [](const RecordedRequest& r) { return TestResponse{.body = r.target}; });
  constexpr int kRequests = 40;
  std::atomic<int> ok{0};
  BeastHttpClient& http = client();
  for (int i = 0; i < kRequests; ++i) {
    asio::co_spawn(
        io_,
        [&, i]() -> Task<void> {
          const std::string target = "/n?i=" + std::to_string(i);
          // Named, not braced inside co_await: g++ 12 miscompiles aggregate temporaries
          // in a co_await expression (double destruction).
          HttpRequest request{.url = server_.url(target)};
          const HttpResponse r = co_await http.send(std::move(request));
          if (r.status == 200 && r.body == target) ++ok;
        },
        asio::detached);
  }
  std::thread second([&] { io_.run(); });
  io_.run();
  second.join();
  EXPECT_EQ(ok, kRequests);
  EXPECT_EQ(server_.request_count(), static_cast<std::size_t>(kRequests));
  const HttpClientStats stats = client().stats();
  EXPECT_EQ(stats.connections_opened + stats.connections_reused,
            static_cast<std::uint64_t>(kRequests));
  EXPECT_LE(stats.idle_connections, 8u);
}

}  // namespace
}  // namespace imagepipe::testing
