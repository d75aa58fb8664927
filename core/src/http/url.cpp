#include "imagepipe/url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <vector>

#include "imagepipe/asio.hpp"

#include <boost/asio/ip/address_v6.hpp>

#include "imagepipe/error.hpp"
#include "imagepipe/http.hpp"
#include "imagepipe/ascii.hpp"

namespace imagepipe {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

std::string lower(std::string_view s) { return ascii_lower(s); }
std::string_view trim(std::string_view s) { return trim_blanks(s); }

[[noreturn]] void invalid(std::string_view text, std::string_view reason) {
  throw Error(ErrorClass::invalid_input,
              "invalid URL '" + redact_url_text(text) + "': " + std::string(reason));
}

// Servers and proxies disagree on raw spaces and 8-bit bytes; percent-encoding them is
// what browsers do and is unambiguous.
std::string encode_target(std::string_view target) {
  std::string out;
  out.reserve(target.size());
  for (char ch : target) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == ' ' || c >= 0x80) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

bool valid_host_name(std::string_view host) {
  return std::all_of(host.begin(), host.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return std::isalnum(c) || c == '-' || c == '.' || c == '_';
  });
}

// One part of a numeric IPv4 host: decimal, 0x hex or 0-led octal, as inet_aton reads it.
std::optional<std::uint64_t> ipv4_part(std::string_view part) {
  int base = 10;
  if (part.size() >= 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) {
    base = 16;
    part.remove_prefix(2);
    if (part.empty()) return 0;
  } else if (part.size() >= 2 && part[0] == '0') {
    base = 8;
    part.remove_prefix(1);
  }
  if (part.empty() || part.size() > 12) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value, base);
  if (ec != std::errc{} || end != part.data() + part.size()) return std::nullopt;
  return value;
}

// WHATWG URL's IPv4 host parser. "2852039166", "0xA9FEA9FE", "0251.0376.0251.0376" and
// "169.254.43518" all mean 169.254.169.254 to the resolver (inet_aton), so a host whose last
// label is a number is read as an address and written back as a.b.c.d: the egress policy
// then judges the address that will be connected to, not a name it cannot see through.
// nullopt: the host is a name; throws when it ends in a number but is no address.
std::optional<std::string> numeric_ipv4_host(std::string_view text, std::string_view host) {
  const std::string_view last = host.substr(host.rfind('.') + 1);
  const bool hex = last.size() >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') &&
                   std::all_of(last.begin() + 2, last.end(),
                               [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
  const bool digits = !last.empty() && std::all_of(last.begin(), last.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
  if (!hex && !digits) return std::nullopt;
  std::vector<std::uint64_t> parts;
  for (std::size_t at = 0; at <= host.size();) {
    const std::size_t dot = std::min(host.find('.', at), host.size());
    const auto part = ipv4_part(host.substr(at, dot - at));
    if (!part || parts.size() == 4) invalid(text, "host ends in a number but is not an IPv4 address");
    parts.push_back(*part);
    at = dot + 1;
  }
  std::uint64_t address = 0;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    if (parts[i] > 255) invalid(text, "host ends in a number but is not an IPv4 address");
    address |= parts[i] << (8 * (3 - i));
  }
  if (parts.back() >= (std::uint64_t(1) << (8 * (5 - parts.size()))))
    invalid(text, "host ends in a number but is not an IPv4 address");
  address |= parts.back();
  return std::to_string(address >> 24) + "." + std::to_string((address >> 16) & 255) + "." +
         std::to_string((address >> 8) & 255) + "." + std::to_string(address & 255);
}

// RFC 3986 section 5.2.4.
std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  bool trailing_slash = false;
  while (pos <= path.size()) {
    const std::size_t next = std::min(path.find('/', pos), path.size());
    const std::string_view seg = path.substr(pos, next - pos);
    trailing_slash = false;
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
      trailing_slash = true;
    } else if (seg == ".") {
      trailing_slash = true;
    } else if (!seg.empty() || next == path.size()) {
      out.push_back(seg);
    }
    pos = next + 1;
  }
  std::string result;
  for (auto seg : out) {
    result += '/';
    result += seg;
  }
  if (trailing_slash || result.empty()) result += '/';
  return result;
}

}  // namespace

std::string url_encode(std::string_view s, bool keep_slash) {
  std::string out;
  out.reserve(s.size() * 3 / 2);
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string redact_url_text(std::string_view text) {
  text = text.substr(0, text.find_first_of("?#"));
  const std::size_t scheme_end = text.find("://");
  const std::size_t authority_begin = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const std::size_t authority_end = std::min(text.find('/', authority_begin), text.size());
  const std::size_t at = text.substr(0, authority_end).rfind('@');
  std::string out;
  for (char ch : text) {
    // Never echo control characters back: they are the reason for many rejections.
    out += (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ? '?' : ch;
  }
  if (at != std::string_view::npos && at >= authority_begin) {
    out.erase(authority_begin, at + 1 - authority_begin);
  }
  return out;
}

std::string Url::path() const { return target.substr(0, target.find('?')); }

std::string Url::authority() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string Url::host_header() const {
  if (!default_port()) return authority();
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

std::string Url::origin() const { return scheme + "://" + authority(); }

std::string Url::redacted() const { return origin() + path(); }

std::string Url::without_userinfo() const { return scheme + "://" + host_header() + target; }

Url parse_url(std::string_view text) {
  text = trim(text);
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) invalid(text, "contains a control character");
  }
  const std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    invalid(text, "missing scheme (expected http:// or https://)");
  }
  Url url;
  url.scheme = lower(text.substr(0, scheme_end));
  if (url.scheme != "http" && url.scheme != "https") {
    throw Error(ErrorClass::invalid_input, "unsupported URL scheme '" + url.scheme + "' in '" +
                                               redact_url_text(text) +
                                               "' (only http and https are allowed)");
  }
  std::string_view rest = text.substr(scheme_end + 3);
  const std::size_t authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view target = rest.substr(authority_end);
  target = target.substr(0, target.find('#'));

  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    url.userinfo = std::string(authority.substr(0, at));
    authority.remove_prefix(at + 1);
  }
  std::string_view host;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) invalid(text, "unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') invalid(text, "unexpected characters after the IPv6 address");
      port = after.substr(1);
    }
    // A zone ("%25eth0") names an interface of the machine that reads the URL, not a host.
    if (host.find('%') != std::string_view::npos)
      invalid(text, "IPv6 zone identifiers are not allowed");
    boost::system::error_code ec;
    asio::ip::make_address_v6(std::string(host), ec);
    if (ec) invalid(text, "malformed IPv6 address");
  } else {
    const std::size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.find(':') != std::string_view::npos) invalid(text, "malformed host or port");
    }
    if (!valid_host_name(host)) invalid(text, "host contains characters that are not allowed");
  }
  if (host.empty()) invalid(text, "missing host");
  url.host = lower(host);
  if (url.host.back() == '.' && url.host.size() > 1) url.host.pop_back();
  // "a..b" or ".a" (or "a.." before the one trailing dot went) is no host name, and "127.."
  // would read as a name here and as 0.0.0.127 once written back without its last dot.
  if (url.host.find(':') == std::string::npos &&
      (url.host.front() == '.' || url.host.find("..") != std::string::npos ||
       url.host.back() == '.'))
    invalid(text, "host has an empty label");
  if (url.host.find(':') == std::string::npos)
    if (auto address = numeric_ipv4_host(text, url.host)) url.host = std::move(*address);

  url.port = url.is_https() ? 443 : 80;
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
      invalid(text, "port must be a number from 1 to 65535");
    }
    url.port = static_cast<std::uint16_t>(value);
  }
  url.target = encode_target(target);
  if (url.target.empty() || url.target.front() == '?') url.target.insert(0, "/");
  return url;
}

Url resolve_url_reference(const Url& base, std::string_view reference) {
  reference = trim(reference);
  reference = reference.substr(0, reference.find('#'));
  const std::size_t colon = reference.find(':');
  const std::size_t first_delim = reference.find_first_of("/?");
  const bool has_scheme = colon != std::string_view::npos && colon > 0 &&
                          (first_delim == std::string_view::npos || colon < first_delim) &&
                          std::isalpha(static_cast<unsigned char>(reference.front()));
  if (has_scheme) return parse_url(reference);
  if (reference.substr(0, 2) == "//") return parse_url(base.scheme + ":" + std::string(reference));

  const std::string prefix =
      base.scheme + "://" + (base.userinfo.empty() ? "" : base.userinfo + "@") + base.authority();
  std::string target;
  if (reference.empty()) {
    target = base.target;
  } else if (reference.front() == '?') {
    target = base.path() + std::string(reference);
  } else {
    const std::size_t query = reference.find('?');
    std::string path(reference.substr(0, query));
    if (path.front() != '/') {
      const std::string base_path = base.path();
      path = base_path.substr(0, base_path.rfind('/') + 1) + path;
    }
    target = remove_dot_segments(path);
    if (query != std::string_view::npos) target += reference.substr(query);
  }
  return parse_url(prefix + target);
}

}  // namespace imagepipe
