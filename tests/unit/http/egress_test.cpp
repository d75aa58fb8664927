#include <cstdlib>

#include <gtest/gtest.h>

#include "imagepipe/egress.hpp"
#include "imagepipe/error.hpp"
#include "imagepipe/http_client.hpp"

namespace imagepipe {
namespace {

std::string refusal(const EgressPolicy& policy, std::string_view url,
                    std::string_view address = {}) {
  try {
    if (address.empty()) {
      policy.check_host(parse_url(url));
    } else {
      policy.check_address(parse_url(url), asio::ip::make_address(std::string(address)));
    }
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
    return e.what();
  }
  return "allowed";
}

TEST(EgressPolicy, RefusesMetadataAndLinkLocalAlways) {
  const EgressPolicy policy;
  EXPECT_EQ(refusal(policy, "http://169.254.169.254/latest/meta-data?x=1"),
            "refusing to connect to 169.254.169.254 (link-local/metadata address) for "
            "http://169.254.169.254:80/latest/meta-data");
  EXPECT_EQ(refusal(policy, "http://[fd00:ec2::254]/"),
            "refusing to connect to fd00:ec2::254 (link-local/metadata address) for "
            "http://[fd00:ec2::254]:80/");
  EXPECT_EQ(
      refusal(policy, "http://[fe80::1]/"),
      "refusing to connect to fe80::1 (link-local/metadata address) for http://[fe80::1]:80/");
  EXPECT_EQ(refusal(policy, "http://0.0.0.0:8080/"),
            "refusing to connect to 0.0.0.0 (unspecified address) for http://0.0.0.0:8080/");
}

TEST(EgressPolicy, JudgesIpv4MappedIpv6AsIpv4) {
  EXPECT_EQ(refusal(EgressPolicy{}, "http://[::ffff:169.254.169.254]/"),
            "refusing to connect to 169.254.169.254 (link-local/metadata address) for "
            "http://[::ffff:169.254.169.254]:80/");
}

TEST(EgressPolicy, ChecksResolvedAddressesOfNames) {
  const EgressPolicy policy;
  EXPECT_EQ(refusal(policy, "http://metadata.google.internal/computeMetadata", "169.254.169.254"),
            "refusing to connect to 169.254.169.254 (link-local/metadata address) for "
            "http://metadata.google.internal:80/computeMetadata");
  EXPECT_EQ(refusal(policy, "http://example.com/", "93.184.216.34"), "allowed");
}

TEST(EgressPolicy, AllowsPrivateAddressesUnlessAsked) {
  EXPECT_EQ(refusal(EgressPolicy{}, "http://127.0.0.1:9000/"), "allowed");
  EXPECT_EQ(refusal(EgressPolicy{}, "http://10.1.2.3/"), "allowed");
  const EgressPolicy strict(EgressOptions{.deny_private = true});
  EXPECT_EQ(
      refusal(strict, "http://127.0.0.1:9000/x"),
      "refusing to connect to 127.0.0.1 (private/loopback address) for http://127.0.0.1:9000/x");
  EXPECT_EQ(refusal(strict, "http://[::1]/"),
            "refusing to connect to ::1 (private/loopback address) for http://[::1]:80/");
  EXPECT_EQ(refusal(strict, "http://h/", "192.168.1.20"),
            "refusing to connect to 192.168.1.20 (private/loopback address) for http://h:80/");
  EXPECT_EQ(refusal(strict, "http://h/", "172.32.0.1"), "allowed");
}

TEST(EgressPolicy, AllowListByName) {
  const EgressPolicy policy(EgressOptions{.allow = {"api.openai.com", "*.blob.core.windows.net"}});
  EXPECT_EQ(refusal(policy, "https://api.openai.com/v1"), "allowed");
  EXPECT_EQ(refusal(policy, "https://acct.blob.core.windows.net/c/b"), "allowed");
  EXPECT_EQ(refusal(policy, "https://blob.core.windows.net/"),
            "host blob.core.windows.net is not in the egress allow-list");
  EXPECT_EQ(refusal(policy, "https://example.com/"),
            "host example.com is not in the egress allow-list");
  EXPECT_EQ(refusal(policy, "https://evilapi.openai.com/"),
            "host evilapi.openai.com is not in the egress allow-list");
}

TEST(EgressPolicy, AllowListByRange) {
  const EgressPolicy policy(EgressOptions{.allow = {"10.0.0.0/8", "2001:db8::/32"}});
  EXPECT_EQ(refusal(policy, "http://10.9.8.7/"), "allowed");
  EXPECT_EQ(refusal(policy, "http://[2001:db8::5]/"), "allowed");
  EXPECT_EQ(refusal(policy, "http://11.0.0.1/"), "host 11.0.0.1 is not in the egress allow-list");
  // A name may still resolve into the range, so it is judged after resolution.
  EXPECT_EQ(refusal(policy, "http://internal.example/"), "allowed");
  EXPECT_EQ(refusal(policy, "http://internal.example/", "10.0.0.8"), "allowed");
  EXPECT_EQ(refusal(policy, "http://internal.example/", "8.8.8.8"),
            "host internal.example (8.8.8.8) is not in the egress allow-list");
}

TEST(EgressPolicy, AllowListNeverReopensMetadata) {
  const EgressPolicy policy(EgressOptions{.allow = {"169.254.0.0/16", "metadata.internal"}});
  EXPECT_EQ(refusal(policy, "http://metadata.internal/", "169.254.169.254"),
            "refusing to connect to 169.254.169.254 (link-local/metadata address) for "
            "http://metadata.internal:80/");
}

TEST(EgressPolicy, RejectsMalformedEntries) {
  try {
    EgressPolicy policy(EgressOptions{.allow = {"10.0.0.0/33"}});
    FAIL() << "accepted a /33";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "invalid egress allow-list entry '10.0.0.0/33': expected a host name, *.domain, an "
              "address or a CIDR range");
  }
}

std::string proxy_for(const ProxySettings& settings, std::string_view url) {
  const auto proxy = select_proxy(settings, parse_url(url));
  return proxy ? proxy->origin() : "direct";
}

TEST(SelectProxy, UsesTheProxyForTheScheme) {
  const ProxySettings s{.http_proxy = "http://proxy:3128", .https_proxy = "tunnel:8080"};
  EXPECT_EQ(proxy_for(s, "http://example.com/"), "http://proxy:3128");
  EXPECT_EQ(proxy_for(s, "https://example.com/"), "http://tunnel:8080");
  EXPECT_EQ(proxy_for(ProxySettings{.http_proxy = "http://proxy:3128"}, "https://example.com/"),
            "direct");
}

TEST(SelectProxy, NeverProxiesLoopback) {
  const ProxySettings s{.http_proxy = "http://proxy:3128"};
  EXPECT_EQ(proxy_for(s, "http://localhost:8080/"), "direct");
  EXPECT_EQ(proxy_for(s, "http://127.0.0.5/"), "direct");
  EXPECT_EQ(proxy_for(s, "http://[::1]/"), "direct");
}

TEST(SelectProxy, HonoursNoProxy) {
  ProxySettings s{.http_proxy = "http://proxy:3128",
                  .no_proxy = " internal.example , .corp.example,*.svc, 10.0.0.0/8 ,api.test:8080"};
  EXPECT_EQ(proxy_for(s, "http://internal.example/"), "direct");
  EXPECT_EQ(proxy_for(s, "http://a.internal.example/"), "direct");
  EXPECT_EQ(proxy_for(s, "http://notinternal.example/"), "http://proxy:3128");
  EXPECT_EQ(proxy_for(s, "http://x.corp.example/"), "direct");
  EXPECT_EQ(proxy_for(s, "http://corp.example/"), "direct");
  EXPECT_EQ(proxy_for(s, "http://db.svc/"), "direct");
  EXPECT_EQ(proxy_for(s, "http://10.2.3.4/"), "direct");
  EXPECT_EQ(proxy_for(s, "http://11.2.3.4/"), "http://proxy:3128");
  EXPECT_EQ(proxy_for(s, "http://api.test:8080/"), "direct");
  EXPECT_EQ(proxy_for(s, "http://api.test:9090/"), "http://proxy:3128");
  s.no_proxy = "*";
  EXPECT_EQ(proxy_for(s, "http://anything.example/"), "direct");
}

TEST(SelectProxy, RefusesHttpsProxies) {
  try {
    select_proxy(ProxySettings{.http_proxy = "https://u:p@proxy:443"}, parse_url("http://x/"));
    FAIL() << "accepted an https proxy";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "unsupported proxy https://proxy:443: only http:// proxies are supported");
  }
}

TEST(ProxySettings, LowerCaseVariablesWin) {
  ::setenv("HTTP_PROXY", "http://upper:1", 1);
  ::setenv("http_proxy", "http://lower:2", 1);
  ::setenv("HTTPS_PROXY", "http://upper:3", 1);
  ::unsetenv("https_proxy");
  ::setenv("NO_PROXY", "a.example", 1);
  ::unsetenv("no_proxy");
  const ProxySettings s = ProxySettings::from_environment();
  for (const char* name : {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "NO_PROXY"}) ::unsetenv(name);
  EXPECT_EQ(s.http_proxy, "http://lower:2");
  EXPECT_EQ(s.https_proxy, "http://upper:3");
  EXPECT_EQ(s.no_proxy, "a.example");
}

}  // namespace
}  // namespace imagepipe
