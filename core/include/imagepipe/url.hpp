// Parsed http(s) URLs, and the redacted form used in every log line and error message.
// Userinfo and query strings often carry credentials (basic auth, presigned signatures,
// SAS tokens), so messages only ever show scheme://host:port/path.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace imagepipe {

struct Url {
  std::string scheme;    // "http" or "https", lower case
  std::string userinfo;  // "user:password" as written (percent-encoded); empty when absent
  std::string host;      // lower case; IPv6 literals without brackets
  std::uint16_t port = 0;
  std::string target;  // path and query, never empty ("/" at least); no fragment

  bool is_https() const { return scheme == "https"; }
  bool default_port() const { return port == (is_https() ? 443 : 80); }
  std::string path() const;              // target without the query
  std::string authority() const;         // host:port, "[::1]:8080" for IPv6
  std::string host_header() const;       // host, with the port only when not the default
  std::string origin() const;            // scheme://host:port
  std::string redacted() const;          // scheme://host:port/path: safe for logs and errors
  std::string without_userinfo() const;  // scheme://host[:port]/path?query
};

// Accepts absolute http and https URLs. Spaces and non-ASCII bytes in the path or query are
// percent-encoded; control characters (CR/LF header injection) are refused. Throws
// Error(invalid_input) naming the problem; the message shows the URL redacted.
Url parse_url(std::string_view text);

// Resolves a Location header (absolute, scheme-relative, absolute-path or relative
// reference) against the URL it came from.
Url resolve_url_reference(const Url& base, std::string_view reference);

// Best-effort redaction of a string that may not even parse as a URL: drops userinfo and
// everything from '?' or '#' on.
std::string redact_url_text(std::string_view text);

}  // namespace imagepipe
