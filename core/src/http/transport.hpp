// One HTTP round trip over a pooled or fresh connection. Internal to the client: the
// redirect loop, header policy and logging live in client.cpp; sockets, TLS, proxies
// and the pool live behind this interface so Beast stays in one translation unit.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "imagepipe/http_client.hpp"

namespace imagepipe::http_detail {

struct Route {
  Url target;
  std::optional<Url> proxy;  // an http:// proxy; https targets tunnel through CONNECT
};

struct RoundTrip {
  Route route;
  std::string method;
  Headers headers;  // sent as given; the transport adds Host and framing headers
  const std::string* body = nullptr;
  std::chrono::steady_clock::time_point deadline;  // the whole request, across hops
  std::chrono::milliseconds timeout{0};            // what `deadline` was set from
  std::chrono::milliseconds connect_timeout{0};

  std::string what() const { return method + " " + route.target.redacted(); }
};

// Owns the egress policy, the TLS context and the pool. round_trip checks the target
// against the policy before resolving, and every resolved address before connecting.
class Transport {
 public:
  // Throws Error(invalid_input) for an unreadable CA file or a bad allow-list entry.
  Transport(asio::any_io_executor executor, const HttpClientOptions& options);
  ~Transport();

  Task<HttpResponse> round_trip(const RoundTrip& rt);
  HttpClientStats stats() const;
  void close_idle();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// "0.25s", "10s": durations in error messages.
std::string format_seconds(std::chrono::milliseconds d);

// "Basic ..." from a URL's percent-encoded "user:password".
std::string basic_authorization(std::string_view userinfo);

// A proxy setting ("http://user:pw@host:port" or "host:port") as a URL; only http://.
Url parse_proxy_url(std::string_view text);

}  // namespace imagepipe::http_detail
