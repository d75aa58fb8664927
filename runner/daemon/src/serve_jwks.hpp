// The issuer's signing keys, fetched with the host's HTTP client and cached:
//   - discovery (issuer + /.well-known/openid-configuration → jwks_uri) once, unless the
//     jwks_uri is configured; the document's `issuer` must be the configured one;
//   - the key set when there is none yet, and again in the background once it is older
//     than refresh_interval (the old keys serve meanwhile, and after a failed refresh);
//   - again when a token names an unknown kid (key rotation), at most once per
//     unknown_kid_interval, so a flood of made-up kids costs the issuer one request.
// Requests that find a fetch under way wait for it (bounded by the fetch timeout) rather
// than start another. Every fetch is bounded by fetch_timeout: a dead issuer never holds a
// request longer than that.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "imagepipe/asio.hpp"
#include "imagepipe/http.hpp"
#include "serve_jwt.hpp"

namespace spdlog {
class logger;
}

namespace imagepipe::serve {

struct JwksSource {
  std::string issuer;    // for discovery, and to check the discovery document
  std::string jwks_uri;  // given: no discovery
  std::chrono::milliseconds fetch_timeout{5000};
  std::chrono::seconds refresh_interval{3600};
  std::chrono::seconds unknown_kid_interval{60};
};

class JwksCache {
 public:
  JwksCache(HttpClient& http, JwksSource source, std::shared_ptr<spdlog::logger> log);

  // The keys to check a token with. Throws Error(unavailable) naming the URL and the reason
  // when there are none and they cannot be fetched now.
  Task<std::shared_ptr<const JwtKeySet>> keys();
  // After a token named a kid the keys lack: fetches them again unless that was done less
  // than unknown_kid_interval ago; returns the newest keys (maybe the same).
  Task<std::shared_ptr<const JwtKeySet>> refresh_for_unknown_kid();

  std::size_t fetches() const;  // key set requests made so far, for tests and metrics

 private:
  using Clock = std::chrono::steady_clock;
  Task<std::shared_ptr<const JwtKeySet>> fetch_or_wait();
  Task<std::shared_ptr<const JwtKeySet>> fetch();
  Task<std::string> resolve_jwks_uri();
  Task<void> refresh_in_background();
  void wake_waiters();  // with mu_ held

  HttpClient& http_;
  JwksSource source_;
  std::shared_ptr<spdlog::logger> log_;

  mutable std::mutex mu_;
  std::shared_ptr<const JwtKeySet> keys_;
  std::string jwks_uri_;  // from discovery, once found
  Clock::time_point fetched_at_{};
  Clock::time_point last_attempt_{};
  Clock::time_point last_unknown_kid_refresh_{};
  bool has_unknown_kid_refresh_ = false;
  bool fetching_ = false;
  std::string last_error_;
  std::size_t fetches_ = 0;
  std::vector<std::shared_ptr<asio::steady_timer>> waiters_;
};

}  // namespace imagepipe::serve
