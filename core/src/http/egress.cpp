#include "imagepipe/egress.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "imagepipe/ascii.hpp"
#include "imagepipe/error.hpp"

namespace imagepipe {

namespace {

constexpr std::string_view kLinkLocal = "link-local/metadata address";
constexpr std::string_view kUnspecified = "unspecified address";
constexpr std::string_view kPrivate = "private/loopback address";

struct FixedRange {
  const char* network;
  unsigned prefix;
  std::string_view reason;
  bool private_only;  // applies only with deny_private
};

constexpr std::array<FixedRange, 12> kFixedRanges{{
    {"169.254.0.0", 16, kLinkLocal, false},
    {"fe80::", 10, kLinkLocal, false},
    {"fd00:ec2::254", 128, kLinkLocal, false},
    {"0.0.0.0", 8, kUnspecified, false},
    {"::", 128, kUnspecified, false},
    {"127.0.0.0", 8, kPrivate, true},
    {"10.0.0.0", 8, kPrivate, true},
    {"172.16.0.0", 12, kPrivate, true},
    {"192.168.0.0", 16, kPrivate, true},
    {"100.64.0.0", 10, kPrivate, true},
    {"::1", 128, kPrivate, true},
    {"fc00::", 7, kPrivate, true},
}};

std::string_view strip_trailing_dot(std::string_view host) {
  if (host.size() > 1 && host.back() == '.') host.remove_suffix(1);
  return host;
}

[[noreturn]] void not_allowed(const Url& url, std::string_view address = {}) {
  std::string msg = "host " + url.host;
  if (!address.empty() && address != url.host) msg += " (" + std::string(address) + ")";
  throw Error(ErrorClass::invalid_input, msg + " is not in the egress allow-list");
}

}  // namespace

asio::ip::address canonical_address(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  }
  return a;
}

bool address_in_range(const asio::ip::address& address, const asio::ip::address& network,
                      unsigned prefix) {
  const asio::ip::address a = canonical_address(address);
  if (a.is_v4() != network.is_v4()) return false;
  auto compare = [prefix](const auto& x, const auto& y) {
    unsigned bits = prefix;
    for (std::size_t i = 0; i < x.size() && bits > 0; ++i) {
      const unsigned take = std::min(bits, 8u);
      const auto mask = static_cast<unsigned char>(0xff << (8 - take));
      if ((x[i] & mask) != (y[i] & mask)) return false;
      bits -= take;
    }
    return true;
  };
  if (a.is_v4()) return compare(a.to_v4().to_bytes(), network.to_v4().to_bytes());
  return compare(a.to_v6().to_bytes(), network.to_v6().to_bytes());
}

bool parse_address_range(std::string_view text, asio::ip::address& network, unsigned& prefix) {
  const std::size_t slash = text.find('/');
  boost::system::error_code ec;
  network = canonical_address(asio::ip::make_address(std::string(text.substr(0, slash)), ec));
  if (ec) return false;
  const unsigned max = network.is_v4() ? 32 : 128;
  prefix = max;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    const auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (err != std::errc{} || end != digits.data() + digits.size() || digits.empty() ||
        prefix > max) {
      return false;
    }
  }
  return true;
}

bool EgressPolicy::Range::contains(const asio::ip::address& a) const {
  return address_in_range(a, network, prefix);
}

EgressPolicy::EgressPolicy(EgressOptions options) : deny_private_(options.deny_private) {
  for (const std::string& raw : options.allow) {
    std::string entry = ascii_lower(raw);
    if (entry.empty()) continue;
    has_allow_list_ = true;
    Range range;
    if (parse_address_range(entry, range.network, range.prefix)) {
      allowed_ranges_.push_back(range);
    } else if (entry.find('/') != std::string::npos || entry.find(':') != std::string::npos) {
      throw Error(ErrorClass::invalid_input,
                  "invalid egress allow-list entry '" + raw +
                      "': expected a host name, *.domain, an address or a CIDR range");
    } else if (entry.starts_with("*.")) {
      allowed_suffixes_.push_back(entry.substr(1));
    } else if (entry.starts_with(".")) {
      allowed_suffixes_.push_back(entry);
    } else {
      allowed_names_.emplace_back(strip_trailing_dot(entry));
    }
  }
}

std::string_view EgressPolicy::denied_reason(const asio::ip::address& address) const {
  const asio::ip::address a = canonical_address(address);
  for (const FixedRange& r : kFixedRanges) {
    if (r.private_only && !deny_private_) continue;
    if (address_in_range(a, asio::ip::make_address(r.network), r.prefix)) return r.reason;
  }
  return {};
}

bool EgressPolicy::name_allowed(std::string_view host) const {
  host = strip_trailing_dot(host);
  if (std::find(allowed_names_.begin(), allowed_names_.end(), host) != allowed_names_.end()) {
    return true;
  }
  return std::any_of(allowed_suffixes_.begin(), allowed_suffixes_.end(),
                     [host](const std::string& suffix) {
                       return host.size() > suffix.size() && host.ends_with(suffix);
                     });
}

bool EgressPolicy::address_allowed(const asio::ip::address& a) const {
  return std::any_of(allowed_ranges_.begin(), allowed_ranges_.end(),
                     [&a](const Range& r) { return r.contains(a); });
}

void EgressPolicy::check_host(const Url& url) const {
  boost::system::error_code ec;
  const asio::ip::address literal = asio::ip::make_address(url.host, ec);
  if (!ec) {
    check_address(url, literal);
    return;
  }
  if (has_allow_list_ && allowed_ranges_.empty() && !name_allowed(url.host)) not_allowed(url);
}

void EgressPolicy::check_address(const Url& url, const asio::ip::address& address) const {
  const asio::ip::address a = canonical_address(address);
  if (const std::string_view reason = denied_reason(a); !reason.empty()) {
    throw Error(ErrorClass::invalid_input, "refusing to connect to " + a.to_string() + " (" +
                                               std::string(reason) + ") for " + url.redacted());
  }
  if (has_allow_list_ && !name_allowed(url.host) && !address_allowed(a)) {
    not_allowed(url, a.to_string());
  }
}

}  // namespace imagepipe
