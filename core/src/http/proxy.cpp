#include <cctype>
#include <cstdlib>

#include "http/transport.hpp"
#include "imagepipe/ascii.hpp"
#include "imagepipe/error.hpp"
#include "imagepipe/http_client.hpp"

namespace imagepipe {

namespace {

std::string env(const char* lower_name, const char* upper_name) {
  if (const char* v = std::getenv(lower_name); v && *v) return v;
  if (const char* v = std::getenv(upper_name); v && *v) return v;
  return {};
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool is_loopback(const std::string& host) {
  if (host == "localhost" || host.ends_with(".localhost")) return true;
  boost::system::error_code ec;
  const auto a = canonical_address(asio::ip::make_address(host, ec));
  return !ec && a.is_loopback();
}

// One NO_PROXY entry against the target: curl's rules (a name matches itself and its
// subdomains, a leading "." or "*." is optional) plus CIDR ranges as in Go.
bool entry_matches(std::string_view entry, const Url& target) {
  std::string e = ascii_lower(trim(entry));
  if (e.empty()) return false;
  if (e == "*") return true;

  asio::ip::address network;
  unsigned prefix = 0;
  if (parse_address_range(e, network, prefix)) {
    boost::system::error_code ec;
    const auto a = asio::ip::make_address(target.host, ec);
    return !ec && address_in_range(a, network, prefix);
  }
  // Optional ":port" (after a bracketed IPv6 address or a name).
  std::string host = e;
  if (e.front() == '[') {
    const std::size_t close = e.find(']');
    host = e.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    if (close != std::string::npos && close + 1 < e.size() && e[close + 1] == ':') {
      if (e.substr(close + 2) != std::to_string(target.port)) return false;
    }
    return host == target.host;
  }
  if (const std::size_t colon = e.rfind(':'); colon != std::string::npos) {
    if (e.substr(colon + 1) != std::to_string(target.port)) return false;
    host = e.substr(0, colon);
  }
  if (host.starts_with("*.")) host.erase(0, 2);
  if (host.starts_with(".")) host.erase(0, 1);
  if (host.ends_with(".")) host.pop_back();
  return target.host == host || target.host.ends_with("." + host);
}

bool bypass(std::string_view no_proxy, const Url& target) {
  while (!no_proxy.empty()) {
    const std::size_t comma = std::min(no_proxy.find(','), no_proxy.size());
    if (entry_matches(no_proxy.substr(0, comma), target)) return true;
    no_proxy.remove_prefix(std::min(comma + 1, no_proxy.size()));
  }
  return false;
}

}  // namespace

ProxySettings ProxySettings::from_environment() {
  return {env("http_proxy", "HTTP_PROXY"), env("https_proxy", "HTTPS_PROXY"),
          env("no_proxy", "NO_PROXY")};
}

std::optional<Url> select_proxy(const ProxySettings& settings, const Url& target) {
  std::string_view spec = trim(target.is_https() ? settings.https_proxy : settings.http_proxy);
  if (spec.empty() || is_loopback(target.host) || bypass(settings.no_proxy, target)) {
    return std::nullopt;
  }
  return http_detail::parse_proxy_url(spec);
}

namespace http_detail {

Url parse_proxy_url(std::string_view text) {
  std::string spec(trim(text));
  if (spec.find("://") == std::string::npos) spec = "http://" + spec;
  Url proxy;
  try {
    proxy = parse_url(spec);
  } catch (const Error& e) {
    throw Error(ErrorClass::invalid_input, std::string("invalid proxy setting: ") + e.what());
  }
  if (proxy.is_https()) {
    throw Error(ErrorClass::invalid_input,
                "unsupported proxy " + proxy.origin() + ": only http:// proxies are supported");
  }
  return proxy;
}

}  // namespace http_detail

}  // namespace imagepipe
