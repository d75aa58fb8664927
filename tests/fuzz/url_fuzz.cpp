// libFuzzer target for the URL parser and the egress policy (core/src/http/url.cpp,
// egress.cpp). Callback URLs and image URLs come from requests, and the policy judges the
// parsed host: whatever parses must be a URL the policy and the connection read alike.
//   - a parsed URL re-parses to itself from its own parts (no second reading of the host);
//   - the redacted forms never carry the userinfo or the query;
//   - a literal address the fixed rules refuse is refused by check_host.
#include <cstdint>
#include <string_view>

#include "imagepipe/egress.hpp"
#include "imagepipe/error.hpp"
#include "imagepipe/url.hpp"

using namespace imagepipe;

namespace {

// The redacted form is scheme://host:port/path: no userinfo in its authority, no query.
bool has_secret_part(const Url& url) {
  const std::string redacted = url.redacted();
  const std::string origin = url.origin();
  return redacted.rfind(origin, 0) != 0 || origin.find('@') != std::string::npos ||
         redacted.find('?') != std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  static const EgressPolicy open_policy;
  static const EgressPolicy strict_policy(
      EgressOptions{.allow = {"*.example.com", "api.openai.com", "10.0.0.0/8", "2001:db8::/32"},
                    .deny_private = true});
  (void)redact_url_text(text);
  Url url;
  try {
    url = parse_url(text);
  } catch (const Error&) {
    return 0;
  }
  if (url.host.empty() || url.target.empty() || url.target.front() != '/') __builtin_trap();
  if (has_secret_part(url)) __builtin_trap();
  const Url again = parse_url(url.without_userinfo());
  if (again.host != url.host || again.port != url.port || again.target != url.target ||
      again.scheme != url.scheme)
    __builtin_trap();
  for (const EgressPolicy* policy : {&open_policy, &strict_policy}) {
    try {
      policy->check_host(url);
      boost::system::error_code ec;
      const auto literal = asio::ip::make_address(url.host, ec);
      if (!ec && !policy->denied_reason(literal).empty()) __builtin_trap();
    } catch (const Error&) {
    }
  }
  try {
    (void)resolve_url_reference(url, text.substr(text.size() / 2));
  } catch (const Error&) {
  }
  return 0;
}
