// Addressing, error mapping and XML parsing of the s3 plugin, without a server.
#include <gtest/gtest.h>

#include "s3_address.hpp"
#include "s3_errors.hpp"
#include "s3_xml.hpp"

namespace imagepipe::s3 {
namespace {

TEST(S3Address, PathStyleKeepsThePortAndEncodesTheKeyOnce) {
  Addresser a("http://127.0.0.1:9000", "images", Addressing::path);
  auto t = a.target("out/a b+c%.png", {{"uploadId", "x/y"}, {"partNumber", "2"}});
  EXPECT_EQ(t.host, "127.0.0.1:9000");
  EXPECT_EQ(t.path, "/images/out/a%20b%2Bc%25.png");
  EXPECT_EQ(t.url, "http://127.0.0.1:9000/images/out/a%20b%2Bc%25.png?partNumber=2&uploadId=x%2Fy");
}

TEST(S3Address, VirtualHostedPutsTheBucketInTheHost) {
  Addresser a("https://s3.eu-west-1.amazonaws.com", "images", Addressing::virtual_hosted);
  auto t = a.target("k.png", {});
  EXPECT_EQ(t.host, "images.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(t.path, "/k.png");
  EXPECT_EQ(t.url, "https://images.s3.eu-west-1.amazonaws.com/k.png");
  EXPECT_EQ(a.target("", {{"list-type", "2"}}).url,
            "https://images.s3.eu-west-1.amazonaws.com/?list-type=2");
}

TEST(S3Address, AutoChoosesVirtualOnlyForAwsWithoutDots) {
  EXPECT_EQ(choose_addressing("auto", "https://s3.us-east-1.amazonaws.com", "b"),
            Addressing::virtual_hosted);
  EXPECT_EQ(choose_addressing("auto", "https://s3.us-east-1.amazonaws.com", "a.b"),
            Addressing::path);
  EXPECT_EQ(choose_addressing("auto", "https://s3.eu-de.cloud-object-storage.appdomain.cloud", "b"),
            Addressing::path);
  EXPECT_EQ(choose_addressing("auto", "http://127.0.0.1:4568", "b"), Addressing::path);
  EXPECT_EQ(
      choose_addressing("virtual", "https://s3.eu-de.cloud-object-storage.appdomain.cloud", "b"),
      Addressing::virtual_hosted);
  EXPECT_THROW(choose_addressing("virtual", "https://s3.amazonaws.com", "a.b"), Error);
}

HttpResponse reply(int status, std::string body, Headers headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

TEST(S3Errors, CodesMapToClassesAndKeepCodeAndRequestId) {
  auto e = to_error(reply(404,
                          "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The "
                          "specified bucket does "
                          "not "
                          "exist</Message><BucketName>b</BucketName><RequestId>4442587FB7D0A2F9</"
                          "RequestId></Error>"),
                    "PutObject", "b", "k");
  EXPECT_EQ(e.cls(), ErrorClass::not_found);
  EXPECT_STREQ(e.what(),
               "S3 PutObject: bucket 'b' does not exist [NoSuchBucket, HTTP 404, request id "
               "4442587FB7D0A2F9]");

  e = to_error(reply(403,
                     "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we "
                     "calculated does "
                     "not match</Message><StringToSign>secret-ish</StringToSign></Error>"),
               "GetObject", "b", "k");
  EXPECT_EQ(e.cls(), ErrorClass::unauthorized);
  EXPECT_STREQ(
      e.what(),
      "S3 GetObject: The request signature we calculated does not match (object 'k' in bucket 'b') "
      "[SignatureDoesNotMatch, HTTP 403]");

  e = to_error(
      reply(503, "<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>",
            {{"Retry-After", "2"}}),
      "PutObject", "b", "k");
  EXPECT_EQ(e.cls(), ErrorClass::rate_limited);
  EXPECT_TRUE(is_retryable(e.cls()));
  EXPECT_EQ(e.retry_after(), std::chrono::milliseconds(2000));

  e = to_error(reply(503, "", {{"x-amz-request-id", "R1"}}), "HeadObject", "b", "k");
  EXPECT_EQ(e.cls(), ErrorClass::unavailable);
  EXPECT_STREQ(e.what(),
               "S3 HeadObject: request failed (object 'k' in bucket 'b') [ServiceUnavailable, HTTP "
               "503, request id R1]");

  EXPECT_EQ(class_for("InvalidAccessKeyId", 403), ErrorClass::unauthorized);
  EXPECT_EQ(class_for("AccessDenied", 403), ErrorClass::unauthorized);
  EXPECT_EQ(class_for("NoSuchKey", 404), ErrorClass::not_found);
  EXPECT_EQ(class_for("InternalError", 500), ErrorClass::unavailable);
}

TEST(S3Xml, ListPageFromS3rverNamespaceAndUrlEncodedKeys) {
  auto page = parse_list(
      "<ListBucketResult "
      "xmlns=\"http://doc.s3.amazonaws.com/2006-03-01/\"><EncodingType>url</EncodingType>"
      "<IsTruncated>true</IsTruncated><NextContinuationToken>tok/+=</NextContinuationToken>"
      "<Contents><Key>a%20b%2Bc.png</Key><Size>8</Size><ETag>&quot;e&quot;</ETag>"
      "<LastModified>2026-11-21T09:34:35.000Z</LastModified></Contents></ListBucketResult>");
  ASSERT_EQ(page.objects.size(), 1u);
  EXPECT_EQ(page.objects[0].key, "a b+c.png");
  EXPECT_EQ(page.objects[0].size, 8u);
  EXPECT_EQ(page.objects[0].etag, "\"e\"");
  EXPECT_EQ(page.next_token, "tok/+=");
  EXPECT_EQ(parse_upload_id("<InitiateMultipartUploadResult><UploadId>u-1</UploadId></"
                            "InitiateMultipartUploadResult>"),
            "u-1");
}

// Found by tests/fuzz/storage_xml_fuzz.cpp: a size past 2^64 threw std::out_of_range, which
// no caller classifies, and a date past 2262 overflowed system_clock.
TEST(S3Xml, SizesThatAreNoNumberAndDatesTooFarAreClassified) {
  try {
    parse_list("<ListBucketResult><Contents><Key>k</Key><Size>99999999999999999999999</Size>"
               "</Contents></ListBucketResult>");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::unavailable);
    EXPECT_STREQ(e.what(),
                 "S3 listed an object whose size is not a number: '99999999999999999999999'");
  }
  EXPECT_EQ(parse_iso8601("3024-01-02T03:04:05.000Z"), std::chrono::system_clock::time_point{});
}

}  // namespace
}  // namespace imagepipe::s3
