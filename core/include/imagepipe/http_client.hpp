// The concrete HttpClient the host hands to plugins: Boost.Beast over Asio, HTTP/1.1 with
// TLS, keep-alive pooling, timeouts, redirects, proxies and the egress policy.
//
//   asio::io_context io;
//   BeastHttpClient http(io.get_executor(), {.egress = {.allow = {"*.openai.com"}}});
//   HttpResponse r = co_await http.send({.method = "GET", .url =
//   "https://api.openai.com/v1/models"});
//
// Behaviour worth knowing:
// - Any status completes normally; failures throw imagepipe::Error: unavailable (cannot
//   connect, connection reset, TLS failure, too many redirects), timeout (connect_timeout
//   or the request's overall timeout, which spans redirects and retries), invalid_input
//   (malformed URL or header, egress refusal, response larger than max_response_bytes).
// - Messages and logs show URLs as scheme://host:port/path: never userinfo, never the
//   query (presigned URLs carry their signature there). Bodies and headers are not logged.
// - Idle keep-alive connections are pooled per (scheme, host, port[, proxy]). A request on
//   a reused connection that fails before any response byte is retried once on a fresh
//   connection when its method is idempotent.
// - Redirects 301/302/303/307/308 are followed up to HttpRequest::max_redirects; 303 turns
//   into GET without a body; credentials (Authorization, Cookie, api-key, x-key, ...)
//   are dropped when a redirect leaves the origin. Every hop is checked against the
//   egress policy.
// - Userinfo in a URL becomes Basic authorization unless an Authorization header is set.
// - Proxies: plain http:// proxies only. http requests go to the proxy in absolute form,
//   https requests through a CONNECT tunnel (TLS is end to end). Through a proxy the proxy
//   resolves names, so the egress policy sees the host name and literal addresses only.
// - The client may be shared by coroutines on any thread; each connection's I/O runs on its
//   own strand of the executor given at construction. Destroy the client before that
//   executor's io_context: pooled connections belong to it.
// - g++ 12 miscompiles an aggregate temporary inside a co_await expression (it is destroyed
//   twice), so `co_await http.send({.url = u})` corrupts memory. Name the request first:
//     HttpRequest request{.method = "POST", .url = u, .body = b};
//     HttpResponse r = co_await http.send(std::move(request));
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "imagepipe/asio.hpp"
#include "imagepipe/egress.hpp"
#include "imagepipe/http.hpp"
#include "imagepipe/url.hpp"

namespace spdlog {
class logger;
}

namespace imagepipe {

struct ProxySettings {
  std::string http_proxy;   // "http://[user:pass@]host:port" ("host:port" also accepted)
  std::string https_proxy;  // used for https URLs, through CONNECT
  // Comma-separated: "*" (no proxy at all), host names (which also match their subdomains),
  // ".domain" or "*.domain", addresses, CIDR ranges; "host:port" limits an entry to a port.
  std::string no_proxy;

  // http_proxy/https_proxy/no_proxy, the lower-case spelling winning over upper case.
  static ProxySettings from_environment();
};

// The proxy for `target`, or nullopt to connect directly. Loopback hosts ("localhost",
// 127.0.0.0/8, ::1) are never proxied. Throws Error(invalid_input) on a malformed proxy URL.
std::optional<Url> select_proxy(const ProxySettings& settings, const Url& target);

struct HttpClientOptions {
  std::size_t max_response_bytes = std::size_t{256} << 20;
  std::size_t max_idle_per_origin = 8;
  std::size_t max_idle_total = 64;
  // Idle connections older than this are closed rather than reused; servers commonly
  // drop idle keep-alive connections after 5-60 s.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(30)};
  bool system_cas = true;  // trust the system's CA store
  std::string ca_file;     // additional trusted CA certificates (PEM), e.g. for tests
  EgressOptions egress;
  std::optional<ProxySettings> proxy;        // nullopt: ProxySettings::from_environment()
  std::string user_agent = "imagepipe/0.1";  // sent unless the request sets User-Agent
  std::shared_ptr<spdlog::logger> log;       // debug line per request; null: silent
};

struct HttpClientStats {
  std::uint64_t requests = 0;            // round trips, including redirect hops and retries
  std::uint64_t connections_opened = 0;  // TCP connection attempts
  std::uint64_t connections_reused = 0;  // requests sent on a pooled connection
  std::uint64_t stale_retries = 0;       // idempotent requests retried after a reuse failed
  std::size_t idle_connections = 0;      // in the pool right now
};

class BeastHttpClient final : public HttpClient {
 public:
  // Throws Error(invalid_input) for bad options (unreadable CA file, malformed allow-list
  // entry or proxy URL).
  explicit BeastHttpClient(asio::any_io_executor executor, HttpClientOptions options = {});
  ~BeastHttpClient() override;
  BeastHttpClient(const BeastHttpClient&) = delete;
  BeastHttpClient& operator=(const BeastHttpClient&) = delete;

  Task<HttpResponse> send(HttpRequest request) override;

  HttpClientStats stats() const;
  void close_idle_connections();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace imagepipe
