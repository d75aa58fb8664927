#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "imagepipe/error.hpp"
#include "imagepipe/http.hpp"

namespace imagepipe {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string decode_error(std::string_view text) {
  try {
    base64_decode(text);
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
    return e.what();
  }
  ADD_FAILURE() << "decoding '" << text << "' should fail";
  return {};
}

TEST(Base64, EncodesRfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, RoundTripsEveryByteValue) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  for (std::size_t n = 0; n <= bytes.size(); n += 37) {
    const std::string prefix = bytes.substr(0, n);
    EXPECT_EQ(base64_decode(base64_encode(prefix)), prefix) << n;
  }
}

TEST(Base64, RoundTripsLongInputWrappedAsMimeDoes) {
  std::string bytes;
  for (int i = 0; i < 5000; ++i) bytes += static_cast<char>((i * 131 + 7) % 256);
  const std::string text = base64_encode(bytes);
  std::string wrapped;
  for (std::size_t i = 0; i < text.size(); i += 76) wrapped += text.substr(i, 76) + "\r\n";
  EXPECT_EQ(base64_decode(text), bytes);
  EXPECT_EQ(base64_decode(wrapped), bytes);
  // The fast path stops at the first bad group; the offset is still exact.
  std::string broken = text;
  broken[4001] = '*';
  EXPECT_EQ(decode_error(broken), "invalid base64: unexpected character '*' at offset 4001");
}

TEST(Base64, DecodesWithAndWithoutPadding) {
  EXPECT_EQ(base64_decode("Zm9vYg=="), "foob");
  EXPECT_EQ(base64_decode("Zm9vYg"), "foob");
  EXPECT_EQ(base64_decode("Zm9vYmE"), "fooba");
  EXPECT_EQ(base64_decode(""), "");
}

TEST(Base64, DecodesUrlSafeAlphabet) {
  // 0xfb 0xff 0xbf is "+/+/" in the standard alphabet and "-_-_" in the URL-safe one.
  EXPECT_EQ(base64_decode("-_-_"), "\xfb\xff\xbf");
  EXPECT_EQ(base64_decode("+/+/"), "\xfb\xff\xbf");
}

TEST(Base64, IgnoresWhitespaceAndLineBreaks) {
  EXPECT_EQ(base64_decode(" Zm9v\r\nYmFy\n\t"), "foobar");
  EXPECT_EQ(base64_decode("Zm9v\nYg==\n"), "foob");
}

TEST(Base64, RejectsForeignCharacterWithItsOffset) {
  EXPECT_EQ(decode_error("Zm9v*mFy"), "invalid base64: unexpected character '*' at offset 4");
  EXPECT_EQ(decode_error("data:image/png;base64,AAAA"),
            "invalid base64: unexpected character ':' at offset 4");
}

TEST(Base64, ShowsUnprintableCharactersEscaped) {
  EXPECT_EQ(decode_error(std::string("Zm\0v", 4)),
            "invalid base64: unexpected character '\\x00' at offset 2");
  EXPECT_EQ(decode_error("Zm9v\xc3\xa9"),
            "invalid base64: unexpected character '\\xC3' at offset 4");
}

TEST(Base64, RejectsDataAfterPadding) {
  EXPECT_EQ(decode_error("Zg==Zg=="), "invalid base64: unexpected character 'Z' at offset 4");
}

TEST(Base64, RejectsAGroupOfOneDigit) {
  EXPECT_EQ(decode_error("Zm9vY"),
            "invalid base64: truncated input (5 digits; a final group needs at least 2)");
}

TEST(UrlEncode, KeepsUnreservedAndEncodesTheRest) {
  EXPECT_EQ(url_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(url_encode("a b/c?d=e&f"), "a%20b%2Fc%3Fd%3De%26f");
  EXPECT_EQ(url_encode("\xc3\xa9"), "%C3%A9");
  EXPECT_EQ(url_encode("+"), "%2B");
}

TEST(UrlEncode, KeepSlashLeavesPathSeparators) {
  EXPECT_EQ(url_encode("dir/sub dir/file.png", true), "dir/sub%20dir/file.png");
}

TEST(FindHeader, IsCaseInsensitiveAndReturnsFirstMatch) {
  const Headers headers{{"Content-Type", "image/png"}, {"X-Trace", "1"}, {"x-trace", "2"}};
  EXPECT_EQ(find_header(headers, "content-type"), "image/png");
  EXPECT_EQ(find_header(headers, "X-TRACE"), "1");
  EXPECT_EQ(find_header(headers, "Content-Length"), std::nullopt);
}

std::string boundary_of(const MultipartBody& m) {
  const std::string prefix = "multipart/form-data; boundary=";
  EXPECT_THAT(m.content_type, StartsWith(prefix));
  return m.content_type.substr(prefix.size());
}

TEST(Multipart, EncodesFieldsAndFilesPerRfc7578) {
  const std::string png("\x89PNG\r\n\x1a\n\0\0", 10);
  const MultipartBody m = encode_multipart({
      {.name = "prompt", .value = "a red fox"},
      {.name = "image", .value = png, .filename = "fox.png", .content_type = "image/png"},
  });
  const std::string b = boundary_of(m);
  EXPECT_EQ(m.body, "--" + b + "\r\n" +
                        "Content-Disposition: form-data; name=\"prompt\"\r\n\r\n"
                        "a red fox\r\n"
                        "--" +
                        b + "\r\n" +
                        "Content-Disposition: form-data; name=\"image\"; filename=\"fox.png\"\r\n"
                        "Content-Type: image/png\r\n\r\n" +
                        png + "\r\n--" + b + "--\r\n");
}

TEST(Multipart, EscapesQuotesAndLineBreaksInNames) {
  const MultipartBody m =
      encode_multipart({{.name = "a\"b", .value = "v", .filename = "evil\"\r\nX-Injected: 1.png"}});
  EXPECT_THAT(m.body, HasSubstr("name=\"a%22b\"; filename=\"evil%22%0D%0AX-Injected: 1.png\"\r\n"));
  EXPECT_THAT(m.body, ::testing::Not(HasSubstr("\r\nX-Injected")));
}

TEST(Multipart, BoundaryNeverOccursInAnyPart) {
  // A value made of a previous boundary must still not contain the new one.
  const std::string first = boundary_of(encode_multipart({{.name = "x", .value = "y"}}));
  const MultipartBody m = encode_multipart({{.name = "x", .value = "--" + first + "--"}});
  const std::string b = boundary_of(m);
  EXPECT_NE(b, first);
  EXPECT_GE(b.size(), 27u);
  EXPECT_EQ(m.body.find("--" + b), 0u);
}

TEST(Multipart, BoundariesAreRandom) {
  EXPECT_NE(encode_multipart({}).content_type, encode_multipart({}).content_type);
}

}  // namespace
}  // namespace imagepipe
