#include <gtest/gtest.h>

#include "imagepipe/error.hpp"
#include "imagepipe/url.hpp"

namespace imagepipe {
namespace {

std::string parse_error(std::string_view text) {
  try {
    parse_url(text);
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
    return e.what();
  }
  ADD_FAILURE() << "parsing '" << text << "' should fail";
  return {};
}

TEST(ParseUrl, SplitsTheParts) {
  const Url u = parse_url("HTTPS://User:Pa%40ss@Example.COM:8443/a/b?x=1&y=2#frag");
  EXPECT_EQ(u.scheme, "https");
  EXPECT_EQ(u.userinfo, "User:Pa%40ss");
  EXPECT_EQ(u.host, "example.com");
  EXPECT_EQ(u.port, 8443);
  EXPECT_EQ(u.target, "/a/b?x=1&y=2");
  EXPECT_EQ(u.path(), "/a/b");
}

TEST(ParseUrl, DefaultsPortAndPath) {
  EXPECT_EQ(parse_url("http://example.com").port, 80);
  EXPECT_EQ(parse_url("https://example.com").port, 443);
  EXPECT_EQ(parse_url("http://example.com").target, "/");
  EXPECT_EQ(parse_url("http://example.com?q=1").target, "/?q=1");
}

TEST(ParseUrl, HandlesIpv6Literals) {
  const Url u = parse_url("http://[::1]:8080/x");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.authority(), "[::1]:8080");
  EXPECT_EQ(u.host_header(), "[::1]:8080");
  EXPECT_EQ(parse_url("http://[::1]/").host_header(), "[::1]");
}

TEST(ParseUrl, PercentEncodesSpacesAndNonAscii) {
  EXPECT_EQ(parse_url("http://h/a b/\xc3\xa9?q=x y").target, "/a%20b/%C3%A9?q=x%20y");
}

// Every URL is read again by uriparser (RFC 3986): characters RFC 3986 leaves out of a
// path or query are escaped first, as browsers do, and an authority it reads otherwise
// (a backslash before an '@', which WHATWG parsers take for a '/') is refused.
TEST(ParseUrl, IsOneUrlToUriparserToo) {
  EXPECT_EQ(parse_url("http://h/a|b/{c}?q=[1]&p=%zz&r=%41").target,
            "/a%7Cb/%7Bc%7D?q=%5B1%5D&p=%25zz&r=%41");
  EXPECT_EQ(parse_error("http://evil.test\\@good.test/"),
            "invalid URL 'http://good.test/': not a URL by RFC 3986 (at '\\')");
  EXPECT_EQ(parse_url("http://u%40x:p@h.test:81/").userinfo, "u%40x:p");
}

TEST(ResolveReference, RefusesControlCharacters) {
  const Url base = parse_url("http://h/a");
  EXPECT_THROW(resolve_url_reference(base, "/x\r\nHost: evil"), Error);
}

TEST(ParseUrl, RedactedFormHidesUserinfoAndQuery) {
  const Url u = parse_url("https://key:secret@bucket.s3.amazonaws.com/img.png?X-Amz-Signature=abc");
  EXPECT_EQ(u.redacted(), "https://bucket.s3.amazonaws.com:443/img.png");
  EXPECT_EQ(u.without_userinfo(), "https://bucket.s3.amazonaws.com/img.png?X-Amz-Signature=abc");
}

TEST(ParseUrl, RefusesOtherSchemes) {
  EXPECT_EQ(parse_error("ftp://user:pw@host/file?sig=1"),
            "unsupported URL scheme 'ftp' in 'ftp://host/file' (only http and https are allowed)");
  EXPECT_EQ(
      parse_error("file:///etc/passwd"),
      "unsupported URL scheme 'file' in 'file:///etc/passwd' (only http and https are allowed)");
}

TEST(ParseUrl, ExplainsMalformedUrls) {
  EXPECT_EQ(parse_error("example.com/x"),
            "invalid URL 'example.com/x': missing scheme (expected http:// or https://)");
  EXPECT_EQ(parse_error("http:///path"), "invalid URL 'http:///path': missing host");
  EXPECT_EQ(parse_error("http://h:99999/"),
            "invalid URL 'http://h:99999/': port must be a number from 1 to 65535");
  EXPECT_EQ(parse_error("http://h:8o/"),
            "invalid URL 'http://h:8o/': port must be a number from 1 to 65535");
  EXPECT_EQ(parse_error("http://[::1/"), "invalid URL 'http://[::1/': unterminated IPv6 address");
  EXPECT_EQ(parse_error("http://a b/"),
            "invalid URL 'http://a b/': host contains characters that are not allowed");
}

TEST(ParseUrl, RefusesControlCharactersWithoutEchoingThem) {
  EXPECT_EQ(parse_error("http://h/x\r\nX-Injected: 1"),
            "invalid URL 'http://h/x??X-Injected: 1': contains a control character");
}

TEST(ParseUrl, ErrorMessagesNeverShowCredentialsOrQuery) {
  EXPECT_EQ(parse_error("http://user:hunter2@h:0/p?token=abc"),
            "invalid URL 'http://h:0/p': port must be a number from 1 to 65535");
}

TEST(RedactUrlText, StripsUserinfoQueryAndFragment) {
  EXPECT_EQ(redact_url_text("https://u:p@h/x?sig=1#f"), "https://h/x");
  EXPECT_EQ(redact_url_text("u:p@h/x"), "h/x");
  EXPECT_EQ(redact_url_text("https://h/a@b"), "https://h/a@b");
}

TEST(ResolveReference, FollowsEveryKindOfLocation) {
  const Url base = parse_url("http://u:p@h:8080/a/b/c?q=1");
  EXPECT_EQ(resolve_url_reference(base, "https://other/x").without_userinfo(), "https://other/x");
  EXPECT_EQ(resolve_url_reference(base, "//other/x").without_userinfo(), "http://other/x");
  EXPECT_EQ(resolve_url_reference(base, "/x?y=2").without_userinfo(), "http://h:8080/x?y=2");
  EXPECT_EQ(resolve_url_reference(base, "d").without_userinfo(), "http://h:8080/a/b/d");
  EXPECT_EQ(resolve_url_reference(base, "../d/./e").without_userinfo(), "http://h:8080/a/d/e");
  EXPECT_EQ(resolve_url_reference(base, "?z=3").without_userinfo(), "http://h:8080/a/b/c?z=3");
  EXPECT_EQ(resolve_url_reference(base, "/a/../../..").without_userinfo(), "http://h:8080/");
  // Same-origin references keep the credentials; other origins do not inherit them.
  EXPECT_EQ(resolve_url_reference(base, "/x").userinfo, "u:p");
  EXPECT_EQ(resolve_url_reference(base, "http://other/x").userinfo, "");
}

// The resolver (inet_aton) reads these as addresses; so does the parser, so the egress
// policy judges the address that would be connected to (WHATWG URL's IPv4 parser).
TEST(ParseUrl, NumericHostsInAnyBaseAreTheAddressTheyName) {
  for (const char* text :
       {"http://2852039166/", "http://0xA9FEA9FE/", "http://0251.0376.0251.0376/",
        "http://0xa9.254.0251.0376/", "http://169.254.43518/", "http://169.16689662/",
        "http://169.254.169.254./"})
    EXPECT_EQ(parse_url(text).host, "169.254.169.254") << text;
  EXPECT_EQ(parse_url("http://127.1:8080/x").authority(), "127.0.0.1:8080");
  EXPECT_EQ(parse_url("http://0/").host, "0.0.0.0");
  EXPECT_EQ(parse_url("http://0x/").host, "0.0.0.0");
  // Names that merely contain digits stay names.
  EXPECT_EQ(parse_url("http://1.example.com/").host, "1.example.com");
  EXPECT_EQ(parse_url("http://example.123a/").host, "example.123a");
}

TEST(ParseUrl, HostsThatEndInANumberButAreNoAddressAreRefused) {
  for (const char* text : {"http://1.2.3.256/", "http://1.2.3.4.5/", "http://4294967296/",
                           "http://09.1.1.1/", "http://example.1/", "http://1.2.65536/"})
    EXPECT_EQ(parse_error(text), std::string("invalid URL '") + text +
                                     "': host ends in a number but is not an IPv4 address")
        << text;
}

TEST(ParseUrl, EmptyLabelsAndZoneIdentifiersAreRefused) {
  EXPECT_EQ(parse_error("http://127../"), "invalid URL 'http://127../': host has an empty label");
  EXPECT_EQ(parse_error("http://a..b/"), "invalid URL 'http://a..b/': host has an empty label");
  EXPECT_EQ(parse_error("http://.a/"), "invalid URL 'http://.a/': host has an empty label");
  EXPECT_EQ(parse_error("http://[fe80::1%25eth0]/"),
            "invalid URL 'http://[fe80::1%25eth0]/': IPv6 zone identifiers are not allowed");
}

}  // namespace
}  // namespace imagepipe
