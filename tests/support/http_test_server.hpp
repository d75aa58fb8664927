// A real HTTP/1.1 server on 127.0.0.1 (ephemeral port) for tests: fake upstream APIs,
// callback receivers, the HTTP client's own tests. It runs on its own thread and stops
// in its destructor.
//
//   imagepipe::testing::HttpTestServer server;
//   server.on("POST", "/v1/images/edits", [](const RecordedRequest& r) {
//     return TestResponse{.status = 200, .headers = {{"Content-Type", "application/json"}},
//                         .body = R"({"data":[]})"};
//   });
//   server.on("GET", "/slow", TestResponse{.body = "late", .delay = 2s});
//   server.on("*", "/files/*", ...);          // any method; trailing '*' matches a prefix
//   ... point the code under test at server.url("/v1") ...
//   ASSERT_TRUE(server.wait_for_requests(1));  // blocks on a condition variable, no polling
//   EXPECT_EQ(server.requests()[0].header("Authorization"), "Bearer sk-test");
//
// Unmatched requests get 404. Handlers run on the server's thread, one at a time: keep
// them quick and use `delay` rather than sleeping. Scripted failures apply to the next
// requests in arrival order, before routing: refuse_next(n, status) answers with
// `status`, drop_next(n) reads the request and resets the connection without answering.
// Every request is recorded, including refused and dropped ones.
//
// With {.tls = true} the server speaks HTTPS with a self-signed certificate made at start
// for 127.0.0.1 and `tls_names`; ca_file() is its PEM, for a client's CA option.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "imagepipe/http.hpp"

namespace imagepipe::testing {

struct RecordedRequest {
  std::string method;
  std::string target;  // as sent: "/path?query", or absolute form through a proxy
  std::string path;    // target without the query
  Headers headers;
  std::string body;
  std::size_t connection = 0;  // which accepted connection it came on, from 1

  std::optional<std::string> header(std::string_view name) const {
    return find_header(headers, name);
  }
};

struct TestResponse {
  int status = 200;
  Headers headers;  // Content-Length is computed
  std::string body;
  std::chrono::milliseconds delay{0};  // wait this long before answering
  bool close = false;                  // answer with Connection: close and close
};

using TestHandler = std::function<TestResponse(const RecordedRequest&)>;

struct HttpTestServerOptions {
  bool tls = false;
  std::vector<std::string> tls_names{"localhost"};  // DNS names in the certificate
};

class HttpTestServer {
 public:
  explicit HttpTestServer(HttpTestServerOptions options = {});
  ~HttpTestServer();
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  // Later registrations win over earlier ones for the same request.
  void on(std::string method, std::string path, TestHandler handler);
  void on(std::string method, std::string path, TestResponse response);
  void otherwise(TestHandler handler);  // instead of 404

  void refuse_next(int count, int status = 503, std::string body = {});
  void drop_next(int count = 1);

  std::uint16_t port() const;
  std::string url(std::string_view path = {}) const;  // "http(s)://127.0.0.1:PORT" + path
  std::string ca_file() const;                        // empty without TLS

  std::vector<RecordedRequest> requests() const;
  std::size_t request_count() const;
  std::size_t connections_accepted() const;
  // True once at least `count` requests have been recorded; false after `timeout`.
  bool wait_for_requests(std::size_t count,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  void clear_requests();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace imagepipe::testing
