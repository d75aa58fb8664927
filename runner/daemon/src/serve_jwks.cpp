#include "serve_jwks.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/redirect_error.hpp>
#include <nlohmann/json.hpp>

#include "imagepipe/error.hpp"
#include "imagepipe/url.hpp"

namespace imagepipe::serve {

namespace {

// With no keys at all, a failed fetch is tried again this soon by the next request: long
// enough that a dead issuer sees a trickle, short enough that a restarted one is noticed.
constexpr std::chrono::seconds kRetryWithoutKeys{5};
// A waiter gives up a little after the fetch it waits for must have ended.
constexpr std::chrono::milliseconds kWaitMargin{250};

std::string redacted(const std::string& url) {
  try {
    return parse_url(url).redacted();
  } catch (const std::exception&) {
    return "(malformed URL)";
  }
}

std::chrono::milliseconds remaining(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return std::max(left, std::chrono::milliseconds(1));
}

// GET `url` as JSON within the deadline; failures are runtime_errors naming the URL.
Task<nlohmann::json> get_json(HttpClient& http, const std::string& url, const char* what,
                              std::chrono::steady_clock::time_point deadline) {
  HttpRequest request{.method = "GET",
                      .url = url,
                      .headers = {{"Accept", "application/json"}},
                      .timeout = remaining(deadline),
                      .connect_timeout = remaining(deadline),
                      .max_redirects = 2};
  HttpResponse response;
  try {
    response = co_await http.send(std::move(request));
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string(what) + " " + redacted(url) + ": " + e.what());
  }
  if (response.status != 200)
    throw std::runtime_error(std::string(what) + " " + redacted(url) + " answered HTTP " +
                             std::to_string(response.status));
  try {
    co_return nlohmann::json::parse(response.body);
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error(std::string(what) + " " + redacted(url) + " is not JSON");
  }
}

bool https_or_loopback(const std::string& url) {
  try {
    const auto u = parse_url(url);
    return u.is_https() || u.host == "127.0.0.1" || u.host == "::1" || u.host == "localhost";
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

JwksCache::JwksCache(HttpClient& http, JwksSource source, std::shared_ptr<spdlog::logger> log)
    : http_(http), source_(std::move(source)), log_(std::move(log)) {}

std::size_t JwksCache::fetches() const {
  std::lock_guard lock(mu_);
  return fetches_;
}

Task<std::shared_ptr<const JwtKeySet>> JwksCache::keys() {
  bool refresh = false;
  {
    std::lock_guard lock(mu_);
    const auto now = Clock::now();
    if (keys_) {
      refresh = !fetching_ && now - fetched_at_ > source_.refresh_interval &&
                now - last_attempt_ > kRetryWithoutKeys;
      if (!refresh) co_return keys_;
    } else if (!fetching_ && fetches_ > 0 && now - last_attempt_ < kRetryWithoutKeys) {
      throw Error(ErrorClass::unavailable, "cannot fetch the issuer's keys: " + last_error_);
    }
  }
  if (refresh) {
    // The old keys serve this request; one request's executor carries the refresh.
    asio::co_spawn(co_await asio::this_coro::executor, refresh_in_background(), asio::detached);
    std::lock_guard lock(mu_);
    co_return keys_;
  }
  co_return co_await fetch_or_wait();
}

Task<std::shared_ptr<const JwtKeySet>> JwksCache::refresh_for_unknown_kid() {
  {
    std::lock_guard lock(mu_);
    const auto now = Clock::now();
    if (!fetching_) {
      if (has_unknown_kid_refresh_ &&
          now - last_unknown_kid_refresh_ < source_.unknown_kid_interval && keys_)
        co_return keys_;
      has_unknown_kid_refresh_ = true;
      last_unknown_kid_refresh_ = now;
    }
  }
  co_return co_await fetch_or_wait();
}

Task<void> JwksCache::refresh_in_background() {
  try {
    co_await fetch_or_wait();
  } catch (const std::exception&) {
    // Logged by fetch_or_wait; the old keys stay.
  }
}

Task<std::shared_ptr<const JwtKeySet>> JwksCache::fetch_or_wait() {
  auto executor = co_await asio::this_coro::executor;
  std::shared_ptr<asio::steady_timer> timer;
  {
    std::lock_guard lock(mu_);
    if (fetching_) {
      timer = std::make_shared<asio::steady_timer>(executor, source_.fetch_timeout + kWaitMargin);
      waiters_.push_back(timer);
    } else {
      fetching_ = true;
      last_attempt_ = Clock::now();
      ++fetches_;
    }
  }
  if (timer) {
    // Woken by the fetch's end (a cancel posted to this executor), or by the deadline.
    boost::system::error_code ec;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    std::lock_guard lock(mu_);
    if (!keys_)
      throw Error(ErrorClass::unavailable,
                  "cannot fetch the issuer's keys: " +
                      (last_error_.empty() ? std::string("no answer yet") : last_error_));
    co_return keys_;
  }

  std::shared_ptr<const JwtKeySet> fetched;
  std::string error;
  try {
    fetched = co_await fetch();
  } catch (const std::exception& e) {
    error = e.what();
  }
  std::lock_guard lock(mu_);
  fetching_ = false;
  if (fetched) {
    keys_ = fetched;
    fetched_at_ = Clock::now();
    last_error_.clear();
    if (log_) log_->info("auth: {} signing key(s) from the issuer", fetched->keys().size());
  } else {
    last_error_ = error;
    if (log_)
      log_->warn("auth: cannot fetch the issuer's keys ({}){}", error,
                 keys_ ? "; the cached keys stay in use" : "");
  }
  wake_waiters();
  if (!keys_) throw Error(ErrorClass::unavailable, "cannot fetch the issuer's keys: " + error);
  co_return keys_;
}

void JwksCache::wake_waiters() {
  for (auto& timer : waiters_) asio::post(timer->get_executor(), [timer] { timer->cancel(); });
  waiters_.clear();
}

Task<std::string> JwksCache::resolve_jwks_uri() {
  if (!source_.jwks_uri.empty()) co_return source_.jwks_uri;
  {
    std::lock_guard lock(mu_);
    if (!jwks_uri_.empty()) co_return jwks_uri_;
  }
  co_return std::string();
}

Task<std::shared_ptr<const JwtKeySet>> JwksCache::fetch() {
  const auto deadline = Clock::now() + source_.fetch_timeout;
  std::string uri = co_await resolve_jwks_uri();
  if (uri.empty()) {
    std::string issuer = source_.issuer;
    while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
    const auto discovery = co_await get_json(http_, issuer + "/.well-known/openid-configuration",
                                             "the discovery document", deadline);
    // OpenID Connect Discovery §4.3: a document for another issuer is not to be used.
    if (!discovery.is_object() || discovery.value("issuer", nlohmann::json()) != source_.issuer)
      throw std::runtime_error("the discovery document names another issuer than '" +
                               source_.issuer + "'");
    const auto found = discovery.value("jwks_uri", nlohmann::json());
    if (!found.is_string() || !https_or_loopback(found.get<std::string>()))
      throw std::runtime_error("the discovery document has no https jwks_uri");
    uri = found.get<std::string>();
    std::lock_guard lock(mu_);
    jwks_uri_ = uri;
  }
  const auto document = co_await get_json(http_, uri, "the key set", deadline);
  try {
    co_return JwtKeySet::parse(document.dump());
  } catch (const std::exception& e) {
    throw std::runtime_error("the key set " + redacted(uri) + ": " + e.what());
  }
}

}  // namespace imagepipe::serve
