// Which addresses the host's HTTP client may reach. Callback URLs and image URLs come from
// requests, so without a policy any caller could make the server fetch its cloud
// metadata endpoint (169.254.169.254) or other internal services.
//
// Fixed rules, always on: link-local (169.254.0.0/16, fe80::/10, including the cloud
// metadata endpoints), fd00:ec2::254, and unspecified addresses (0.0.0.0/8, ::).
// Optional: deny_private also refuses loopback and private ranges (127.0.0.0/8,
// 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, ::1, fc00::/7).
// Optional: an allow-list narrows further; it never re-opens a fixed rule.
//
// Checks run on the URL's host before resolution, then on every resolved address, so a
// name that resolves to a metadata address is refused before any connection is made.
// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are judged as the IPv4 address they carry.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "imagepipe/asio.hpp"

#include <boost/asio/ip/address.hpp>

#include "imagepipe/url.hpp"

namespace imagepipe {

struct EgressOptions {
  // Empty: every host the fixed rules allow. Otherwise each entry is one of
  //   "api.openai.com"               exactly this host name
  //   "*.example.com", ".example.com" any subdomain of example.com (not example.com itself)
  //   "203.0.113.7", "2001:db8::1"   this address
  //   "10.0.0.0/8", "2001:db8::/32"  any address in this range
  // A host passes when its name matches, or when every address it resolves to does.
  std::vector<std::string> allow;
  bool deny_private = false;
};

class EgressPolicy {
 public:
  EgressPolicy() = default;
  // Throws Error(invalid_input) naming a malformed allow-list entry.
  explicit EgressPolicy(EgressOptions options);

  // Before resolution. Refuses a literal address that a rule denies, and a host name that
  // can never pass the allow-list. Messages show the URL redacted.
  void check_host(const Url& url) const;
  // After resolution, for each address that may be connected to.
  void check_address(const Url& url, const asio::ip::address& address) const;

  // Why an address is refused by the fixed rules (and deny_private when set), e.g.
  // "link-local/metadata address"; empty when it is not.
  std::string_view denied_reason(const asio::ip::address& address) const;

 private:
  struct Range {
    asio::ip::address network;  // IPv4 ranges hold an address_v4
    unsigned prefix = 0;
    bool contains(const asio::ip::address& a) const;
  };
  bool name_allowed(std::string_view host) const;
  bool address_allowed(const asio::ip::address& a) const;

  bool deny_private_ = false;
  bool has_allow_list_ = false;
  std::vector<std::string> allowed_names_;     // exact host names
  std::vector<std::string> allowed_suffixes_;  // ".example.com"
  std::vector<Range> allowed_ranges_;
};

// Ranges parsed from "a.b.c.d/n" or "v6/n" (no prefix: a single address); shared with the
// NO_PROXY parser. Returns false on malformed text.
bool parse_address_range(std::string_view text, asio::ip::address& network, unsigned& prefix);
bool address_in_range(const asio::ip::address& a, const asio::ip::address& network,
                      unsigned prefix);
// IPv4-mapped IPv6 addresses become IPv4; everything else is returned unchanged.
asio::ip::address canonical_address(const asio::ip::address& a);

}  // namespace imagepipe
