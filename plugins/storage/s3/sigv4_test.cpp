// SigV4 against AWS's published vectors: the generic suite (service "service",
// 20150830T123600Z) and the S3 examples of the S3 API reference (20130524T000000Z).
// Each stage is checked on its own: a wrong newline only shows up as a different hash.
#include <gtest/gtest.h>

#include "sigv4.hpp"

namespace imagepipe::s3 {
namespace {

const Credentials kSuite{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const Credentials kS3Doc{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
constexpr const char* kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

SignInput suite(std::string method, std::string path, Params query = {}) {
  SignInput in;
  in.method = std::move(method);
  in.path = std::move(path);
  in.query = std::move(query);
  in.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  in.payload_hash = kEmpty;
  in.region = "us-east-1";
  in.service = "service";
  in.timestamp = "20150830T123600Z";
  return in;
}

TEST(SigV4Suite, GetVanilla) {
  auto s = sign(suite("GET", "/"), kSuite);
  EXPECT_EQ(
      s.canonical_request,
      "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
          std::string(kEmpty));
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4Suite, SigningKey) {
  EXPECT_EQ(hex(signing_key(kSuite.secret_access_key, "20150830", "us-east-1", "service")),
            "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75");
}

TEST(SigV4Suite, GetVanillaQueryOrderKeyCase) {
  auto s = sign(suite("GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}}), kSuite);
  EXPECT_EQ(s.signature, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4Suite, GetVanillaQueryUnreserved) {
  const std::string unreserved =
      "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  auto s = sign(suite("GET", "/", {{unreserved, unreserved}}), kSuite);
  EXPECT_EQ(s.signature, "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197");
}

TEST(SigV4Suite, GetUtf8) {
  EXPECT_EQ(url_encode("/\xE1\x88\xB4", true), "/%E1%88%B4");
  auto s = sign(suite("GET", url_encode("/\xE1\x88\xB4", true)), kSuite);
  EXPECT_EQ(s.signature, "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");
}

TEST(SigV4Suite, PostXWwwFormUrlencoded) {
  auto in = suite("POST", "/");
  in.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  in.payload_hash = sha256_hex("Param1=value1");
  EXPECT_EQ(in.payload_hash, "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  auto s = sign(in, kSuite);
  EXPECT_EQ(s.string_to_sign.substr(s.string_to_sign.rfind('\n') + 1),
            "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281");
  EXPECT_EQ(s.signed_headers, "content-type;host;x-amz-date");
  EXPECT_EQ(s.signature, "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
}

TEST(SigV4Suite, GetVanillaWithSessionToken) {
  auto in = suite("GET", "/");
  in.headers.emplace_back("X-Amz-Security-Token",
                          "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267");
  auto s = sign(in, kSuite);
  EXPECT_EQ(s.signed_headers, "host;x-amz-date;x-amz-security-token");
  EXPECT_EQ(s.signature, "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8");
}

SignInput s3doc(std::string method, std::string path, Params query, std::string payload_hash) {
  SignInput in;
  in.method = std::move(method);
  in.path = std::move(path);
  in.query = std::move(query);
  in.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                {"x-amz-content-sha256", payload_hash},
                {"x-amz-date", "20130524T000000Z"}};
  in.payload_hash = std::move(payload_hash);
  in.region = "us-east-1";
  in.timestamp = "20130524T000000Z";
  return in;
}

TEST(SigV4S3, GetObjectWithRange) {
  auto in = s3doc("GET", "/test.txt", {}, kEmpty);
  in.headers.emplace_back("Range", "bytes=0-9");
  auto s = sign(in, kS3Doc);
  EXPECT_EQ(s.canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:" +
                std::string(kEmpty) +
                "\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n" +
                kEmpty);
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(hex(signing_key(kS3Doc.secret_access_key, "20130524", "us-east-1", "s3")),
            "dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378");
  EXPECT_EQ(s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4S3, PutObjectWithDollarInKey) {
  EXPECT_EQ(url_encode("/test$file.text", true), "/test%24file.text");
  auto in =
      s3doc("PUT", url_encode("/test$file.text", true), {}, sha256_hex("Welcome to Amazon S3."));
  in.headers.emplace_back("Date", "Fri, 24 May 2013 00:00:00 GMT");
  in.headers.emplace_back("x-amz-storage-class", "REDUCED_REDUNDANCY");
  auto s = sign(in, kS3Doc);
  EXPECT_EQ(sha256_hex(s.canonical_request),
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(s.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4S3, GetBucketLifecycleValuelessSubresource) {
  auto s = sign(s3doc("GET", "/", {{"lifecycle", ""}}, kEmpty), kS3Doc);
  EXPECT_NE(s.canonical_request.find("\nlifecycle=\n"), std::string::npos);
  EXPECT_EQ(sha256_hex(s.canonical_request),
            "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
  EXPECT_EQ(s.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4S3, ListObjects) {
  auto s = sign(s3doc("GET", "/", {{"prefix", "J"}, {"max-keys", "2"}}, kEmpty), kS3Doc);
  EXPECT_NE(s.canonical_request.find("\nmax-keys=2&prefix=J\n"), std::string::npos);
  EXPECT_EQ(sha256_hex(s.canonical_request),
            "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  EXPECT_EQ(s.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4S3, PresignedGet) {
  SignInput in;
  in.method = "GET";
  in.path = "/test.txt";
  in.headers = {{"host", "examplebucket.s3.amazonaws.com"}};
  in.region = "us-east-1";
  in.timestamp = "20130524T000000Z";
  EXPECT_EQ(presign_query(in, kS3Doc, std::chrono::seconds(86400)),
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%"
            "2Fus-east-1%"
            "2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-"
            "SignedHeaders=host&"
            "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4, UriEncodingOfAwkwardKeys) {
  EXPECT_EQ(url_encode("a b+c%d=e~f/g", true), "a%20b%2Bc%25d%3De~f/g");
  EXPECT_EQ(url_encode("a/b", false), "a%2Fb");
  EXPECT_EQ(url_encode("caf\xC3\xA9", true), "caf%C3%A9");
  EXPECT_EQ(canonical_query({{"uploads", ""}}), "uploads=");
  EXPECT_EQ(canonical_query({{"b", "2"}, {"a", "1"}, {"A", "0"}}), "A=0&a=1&b=2");
}

TEST(SigV4, HeaderValuesAreTrimmedAndSqueezed) {
  auto in = suite("GET", "/");
  in.headers.emplace_back("My-Header1", "   value1   ");
  in.headers.emplace_back("My-Header2", "\"a   b   c\"");
  auto s = sign(in, kSuite);
  EXPECT_NE(s.canonical_request.find("my-header1:value1\nmy-header2:\"a b c\"\n"),
            std::string::npos);
  // get-header-value-trim from AWS's suite.
  EXPECT_EQ(s.signature, "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
}

}  // namespace
}  // namespace imagepipe::s3
