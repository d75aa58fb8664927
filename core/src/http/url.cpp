#include "imagepipe/url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <vector>

#include <uriparser/Uri.h>

#include "imagepipe/asio.hpp"

#include <boost/asio/ip/address_v6.hpp>

#include "imagepipe/ascii.hpp"
#include "imagepipe/error.hpp"
#include "imagepipe/http.hpp"

namespace imagepipe {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}


[[noreturn]] void invalid(std::string_view text, std::string_view reason) {
  throw Error(ErrorClass::invalid_input,
              "invalid URL '" + redact_url_text(text) + "': " + std::string(reason));
}

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// RFC 3986's characters for a path and query besides unreserved ones: sub-delims, ':',
// '@', '/', '?', and '%' when it starts an escape.
bool allowed_in_target(std::string_view target, std::size_t i) {
  const auto c = static_cast<unsigned char>(target[i]);
  if (c == '%') return i + 2 < target.size() && is_hex(target[i + 1]) && is_hex(target[i + 2]);
  return is_unreserved(c) ||
         std::string_view(":/?@!$&'()*+,;=").find(char(c)) != std::string_view::npos;
}

// Servers and proxies disagree on raw spaces, 8-bit bytes and the other characters RFC 3986
// leaves out ('|', '{', '"', a '%' that starts no escape...); percent-encoding them is what
// browsers do and is unambiguous.
std::string encode_target(std::string_view target) {
  std::string out;
  out.reserve(target.size());
  for (std::size_t i = 0; i < target.size(); ++i) {
    const char ch = target[i];
    const auto c = static_cast<unsigned char>(ch);
    if (!allowed_in_target(target, i)) {
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
    if (!part || parts.size() == 4)
      invalid(text, "host ends in a number but is not an IPv4 address");
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

std::string text_of(const UriTextRangeA& range) {
  return range.first && range.afterLast ? std::string(range.first, range.afterLast) : std::string();
}

struct ParsedUri {
  UriUriA uri{};
  ParsedUri() = default;
  ParsedUri(const ParsedUri&) = delete;
  ParsedUri& operator=(const ParsedUri&) = delete;
  ~ParsedUri() { uriFreeUriMembersA(&uri); }

  // False, with where it stopped, when `text` is no RFC 3986 URI reference.
  bool parse(const std::string& text, std::size_t& stopped) {
    const char* error = nullptr;
    if (uriParseSingleUriExA(&uri, text.data(), text.data() + text.size(), &error) == URI_SUCCESS)
      return true;
    stopped = error ? std::size_t(error - text.data()) : 0;
    return false;
  }
};

// The URL read again by uriparser (a maintained RFC 3986 parser), from the parts this one
// found: refused unless it parses and finds the same userinfo, host and port. Whatever
// passes here is one URL to both readings, so nothing that reads it later (the egress
// policy, the connection, a proxy) can take another host from it.
void check_rfc3986(std::string_view text, const Url& url, std::string_view host,
                   std::string_view port) {
  const bool literal = host.find(':') != std::string_view::npos;
  const std::string authority = (url.userinfo.empty() ? "" : url.userinfo + "@") +
                                (literal ? "[" + std::string(host) + "]" : std::string(host)) +
                                (port.empty() ? "" : ":" + std::string(port));
  const std::string written = url.scheme + "://" + authority + url.target;
  ParsedUri parsed;
  std::size_t stopped = 0;
  if (!parsed.parse(written, stopped))
    invalid(text,
            "not a URL by RFC 3986 (at '" + redact_url_text(written.substr(stopped, 1)) + "')");
  const UriUriA& uri = parsed.uri;
  if (text_of(uri.userInfo) != url.userinfo ||
      ascii_lower(text_of(uri.hostText)) != ascii_lower(host) || text_of(uri.portText) != port)
    invalid(text, "the host is ambiguous");
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
  text = trim_blanks(text);
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) invalid(text, "contains a control character");
  }
  const std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    invalid(text, "missing scheme (expected http:// or https://)");
  }
  Url url;
  url.scheme = ascii_lower(text.substr(0, scheme_end));
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
  url.host = ascii_lower(host);
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
  check_rfc3986(text, url, host, port);
  return url;
}

Url resolve_url_reference(const Url& base, std::string_view reference) {
  reference = trim_blanks(reference);
  reference = reference.substr(0, reference.find('#'));
  for (char ch : reference)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f)
      invalid(reference, "contains a control character");
  const std::size_t colon = reference.find(':');
  const std::size_t first_delim = reference.find_first_of("/?");
  const bool has_scheme = colon != std::string_view::npos && colon > 0 &&
                          (first_delim == std::string_view::npos || colon < first_delim) &&
                          std::isalpha(static_cast<unsigned char>(reference.front()));
  if (has_scheme) return parse_url(reference);
  if (reference.substr(0, 2) == "//") return parse_url(base.scheme + ":" + std::string(reference));

  // A path or query relative to the base, resolved by uriparser (RFC 3986 section 5.2,
  // dot segments included).
  const std::string base_text = base.scheme + "://" +
                                (base.userinfo.empty() ? "" : base.userinfo + "@") +
                                base.authority() + base.target;
  const std::string relative = reference.empty() ? base.target : encode_target(reference);
  ParsedUri base_uri, relative_uri;
  std::size_t stopped = 0;
  if (!base_uri.parse(base_text, stopped) || !relative_uri.parse(relative, stopped))
    invalid(reference, "not a URL reference by RFC 3986");
  ParsedUri resolved;
  if (uriAddBaseUriA(&resolved.uri, &relative_uri.uri, &base_uri.uri) != URI_SUCCESS)
    invalid(reference, "cannot be resolved against " + base.redacted());
  int size = 0;
  if (uriToStringCharsRequiredA(&resolved.uri, &size) != URI_SUCCESS)
    invalid(reference, "cannot be resolved against " + base.redacted());
  std::string out(std::size_t(size) + 1, '\0');
  if (uriToStringA(out.data(), &resolved.uri, size + 1, nullptr) != URI_SUCCESS)
    invalid(reference, "cannot be resolved against " + base.redacted());
  out.resize(std::size_t(size));
  return parse_url(out);
}

}  // namespace imagepipe
