// BeastHttpClient: request validation, redirects, default headers and logging. The wire
// work is in transport.cpp.
#include <algorithm>
#include <array>
#include <cctype>

#include <spdlog/logger.h>

#include "http/transport.hpp"
#include "imagepipe/ascii.hpp"
#include "imagepipe/error.hpp"
#include "imagepipe/http_client.hpp"
#include "imagepipe/trace.hpp"

namespace imagepipe {

namespace {

using http_detail::RoundTrip;
using SteadyClock = std::chrono::steady_clock;

// RFC 9110 token characters: method and header names.
bool is_token(std::string_view s) {
  static constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || kExtra.find(c) != std::string_view::npos;
  });
}

// Headers that authenticate the caller to one origin and must not follow a redirect to
// another. Matches what browsers and curl drop, plus the API-key headers providers use.
bool is_credential(std::string_view name) {
  static constexpr std::array<std::string_view, 8> kNames{
      "authorization",  "proxy-authorization",      "cookie", "api-key", "x-api-key", "x-key",
      "x-goog-api-key", "ocp-apim-subscription-key"};
  return std::any_of(kNames.begin(), kNames.end(),
                     [name](std::string_view n) { return ascii_iequals(n, name); });
}

// Headers the transport owns: framing must match the body it actually sends.
bool is_framing(std::string_view name) {
  return ascii_iequals(name, "host") || ascii_iequals(name, "content-length") ||
         ascii_iequals(name, "transfer-encoding");
}

std::string checked_method(std::string method) {
  for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (!is_token(method)) {
    throw Error(ErrorClass::invalid_input, "invalid HTTP method '" + method + "'");
  }
  return method;
}

// Only names are quoted in messages: values may be secrets.
Headers checked_headers(Headers headers) {
  for (const auto& [name, value] : headers) {
    if (!is_token(name))
      throw Error(ErrorClass::invalid_input, "invalid header name '" + name + "'");
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      throw Error(ErrorClass::invalid_input,
                  "invalid value for header '" + name + "': contains a line break or NUL");
    }
  }
  std::erase_if(headers, [](const auto& h) { return is_framing(h.first); });
  return headers;
}

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

int percent_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = percent_digit(s[i + 1]);
      const int lo = percent_digit(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

}  // namespace

namespace http_detail {
std::string basic_authorization(std::string_view userinfo) {
  return "Basic " + base64_encode(percent_decode(userinfo));
}
}  // namespace http_detail

struct BeastHttpClient::Impl {
  Impl(asio::any_io_executor executor, HttpClientOptions opts)
      : options(std::move(opts)),
        proxy(options.proxy ? *options.proxy : ProxySettings::from_environment()),
        transport(std::move(executor), options) {
    // Fail at start-up, not on the first request.
    if (!proxy.http_proxy.empty()) http_detail::parse_proxy_url(proxy.http_proxy);
    if (!proxy.https_proxy.empty()) http_detail::parse_proxy_url(proxy.https_proxy);
  }

  Task<HttpResponse> send(HttpRequest request);
  void add_defaults(Headers& headers, const Url& url) const;
  void log_result(const RoundTrip& rt, SteadyClock::time_point started, const HttpResponse* r,
                  const std::exception* error) const;

  const HttpClientOptions options;
  const ProxySettings proxy;
  http_detail::Transport transport;
};

void BeastHttpClient::Impl::add_defaults(Headers& headers, const Url& url) const {
  if (!find_header(headers, "user-agent") && !options.user_agent.empty()) {
    headers.emplace_back("User-Agent", options.user_agent);
  }
  if (!find_header(headers, "accept")) headers.emplace_back("Accept", "*/*");
  if (!url.userinfo.empty() && !find_header(headers, "authorization")) {
    headers.emplace_back("Authorization", http_detail::basic_authorization(url.userinfo));
  }
}

void BeastHttpClient::Impl::log_result(const RoundTrip& rt, SteadyClock::time_point started,
                                       const HttpResponse* r, const std::exception* error) const {
  if (!options.log) return;
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started).count();
  const std::string via = rt.route.proxy ? " via proxy " + rt.route.proxy->authority() : "";
  if (r) {
    options.log->debug("http {}{} -> {} ({} ms)", rt.what(), via, r->status, ms);
  } else {
    options.log->debug("http {}{} failed after {} ms: {}", rt.what(), via, ms, error->what());
  }
}

Task<HttpResponse> BeastHttpClient::Impl::send(HttpRequest request) {
  const auto started = SteadyClock::now();
  RoundTrip rt;
  rt.deadline = started + request.timeout;
  rt.timeout = request.timeout;
  rt.connect_timeout = request.connect_timeout;
  rt.method = checked_method(std::move(request.method));
  Headers headers = checked_headers(std::move(request.headers));
  std::string body = std::move(request.body);
  Url url = parse_url(request.url);
  const std::string original = rt.method + " " + url.redacted();

  for (int hop = 0;; ++hop) {
    rt.route = {url, select_proxy(proxy, url)};
    rt.headers = headers;
    add_defaults(rt.headers, url);
    rt.body = &body;

    HttpResponse response;
    try {
      response = co_await transport.round_trip(rt);
    } catch (const std::exception& e) {
      log_result(rt, started, nullptr, &e);
      throw;
    }
    log_result(rt, started, &response, nullptr);

    if (!is_redirect(response.status) || request.max_redirects <= 0) co_return response;
    const std::optional<std::string> location = response.header("location");
    if (!location) co_return response;
    if (hop >= request.max_redirects) {
      throw Error(ErrorClass::unavailable,
                  "too many redirects: " + original + " redirected more than " +
                      std::to_string(request.max_redirects) + " times (max_redirects)");
    }
    Url next;
    try {
      next = resolve_url_reference(url, *location);
    } catch (const Error& e) {
      throw Error(ErrorClass::unavailable,
                  "redirect from " + rt.what() + " to an unusable location: " + e.what());
    }
    if (response.status == 303 && rt.method != "HEAD") {
      rt.method = "GET";
      body.clear();
      std::erase_if(headers, [](const auto& h) { return ascii_iequals(h.first, "content-type"); });
    }
    if (next.origin() != url.origin()) {
      std::erase_if(headers, [](const auto& h) { return is_credential(h.first); });
    }
    url = std::move(next);
  }
}

BeastHttpClient::BeastHttpClient(asio::any_io_executor executor, HttpClientOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options))) {}

BeastHttpClient::~BeastHttpClient() = default;

Task<HttpResponse> BeastHttpClient::send(HttpRequest request) {
  // Read before the first suspension: the caller's trace is current on this thread now.
  // A request that brings its own traceparent keeps it.
  if (const auto* trace = current_trace(); trace && !find_header(request.headers, "traceparent"))
    request.headers.emplace_back("traceparent", child_span(*trace).traceparent());
  // The frame keeps the implementation alive even if the client is destroyed mid-request.
  const std::shared_ptr<Impl> impl = impl_;
  co_return co_await impl->send(std::move(request));
}

HttpClientStats BeastHttpClient::stats() const { return impl_->transport.stats(); }

void BeastHttpClient::close_idle_connections() { impl_->transport.close_idle(); }

}  // namespace imagepipe
