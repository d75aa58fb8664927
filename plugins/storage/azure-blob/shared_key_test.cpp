// Shared Key and SAS against the worked examples of the wire reference (computed with the
// published algorithm and accepted by Azurite), plus connection-string parsing.
#include <gtest/gtest.h>

#include "azure_xml.hpp"
#include "connection_string.hpp"
#include "imagepipe/error.hpp"
#include "shared_key.hpp"

namespace imagepipe::azure {
namespace {

constexpr const char* kDate = "Mon, 01 Jan 2024 00:00:00 GMT";

TEST(AzureSharedKey, PutBlobOnAzurite) {
  SharedKeyInput in{"PUT",
                    kDevAccount,
                    "/devstoreaccount1/images/out/hello.png",
                    {},
                    {{"x-ms-date", kDate},
                     {"x-ms-version", "2021-08-06"},
                     {"x-ms-blob-type", "BlockBlob"},
                     {"Content-Type", "image/png"},
                     {"Content-Length", "11"}}};
  EXPECT_EQ(
      string_to_sign(in),
      "PUT\n\n\n11\n\nimage/png\n\n\n\n\n\n\nx-ms-blob-type:BlockBlob\nx-ms-date:Mon, 01 Jan 2024 "
      "00:00:00 "
      "GMT\nx-ms-version:2021-08-06\n/devstoreaccount1/devstoreaccount1/images/out/hello.png");
  EXPECT_EQ(authorization(in, kDevKey),
            "SharedKey devstoreaccount1:KL2NwT0CkUZFSZI3nCY5BFIUsy2DsWWRXDe/67+RSlg=");
}

TEST(AzureSharedKey, GetBlob) {
  SharedKeyInput in{"GET",
                    kDevAccount,
                    "/devstoreaccount1/images/out/cat.png",
                    {},
                    {{"x-ms-date", kDate}, {"x-ms-version", "2021-08-06"}}};
  EXPECT_EQ(signature(kDevKey, string_to_sign(in)), "o3q+tSo/REt1lTK1eKxdOqOoHt+xcOZOGxitrtRTrck=");
}

TEST(AzureSharedKey, ListBlobsQueryIsSortedAndDecoded) {
  Pairs query{
      {"restype", "container"}, {"comp", "list"}, {"prefix", "out/"}, {"maxresults", "100"}};
  SharedKeyInput in{"GET",
                    kDevAccount,
                    "/devstoreaccount1/images",
                    query,
                    {{"x-ms-date", kDate}, {"x-ms-version", "2021-08-06"}}};
  EXPECT_TRUE(string_to_sign(in).ends_with(
      "/devstoreaccount1/devstoreaccount1/images\ncomp:list\nmaxresults:100\nprefix:out/"
      "\nrestype:container"));
  EXPECT_EQ(signature(kDevKey, string_to_sign(in)), "UbScn6VrdCfra0DL9iA+yqLa81DPrfU1bhqy0wYWHUA=");
  in.path = "/images";  // a real account: the account appears once
  EXPECT_EQ(signature(kDevKey, string_to_sign(in)), "9FeabfTtU/YBccTfgscF0XDxmxUYWjGugUE7CQPBMeY=");
}

TEST(AzureSharedKey, ZeroContentLengthIsAnEmptyLine) {
  SharedKeyInput in{"PUT",
                    "a",
                    "/c",
                    {{"restype", "container"}},
                    {{"Content-Length", "0"}, {"x-ms-date", kDate}}};
  EXPECT_TRUE(string_to_sign(in).rfind("PUT\n\n\n\n", 0) == 0);
}

TEST(AzureSas, ReadUrlForOneBlob) {
  SasInput in;
  in.account = kDevAccount;
  in.container = "images";
  in.blob = "out/cat.png";
  in.expiry = "2099-01-01T00:00:00Z";
  in.protocol = "https,http";
  EXPECT_EQ(sas_string_to_sign(in),
            "r\n\n2099-01-01T00:00:00Z\n/blob/devstoreaccount1/images/out/"
            "cat.png\n\n\nhttps,http\n2021-08-06\nb\n\n\n\n\n\n\n");
  EXPECT_EQ(sas_query(in, kDevKey),
            "sv=2021-08-06&spr=https%2Chttp&se=2099-01-01T00%3A00%3A00Z&sr=b&sp=r&sig="
            "cxD5q3WbE1MSSMSNCdkMrdwymP%2B%2FFldrtustogncXRM%3D");
}

TEST(AzureConnectionString, Forms) {
  auto dev = parse_connection_string("UseDevelopmentStorage=true");
  EXPECT_EQ(dev.name, "devstoreaccount1");
  EXPECT_EQ(dev.endpoint, "http://127.0.0.1:10000/devstoreaccount1");
  auto explicit_endpoint = parse_connection_string(
      "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" +
      std::string(kDevKey) + ";BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;");
  EXPECT_EQ(explicit_endpoint.key, kDevKey);
  EXPECT_EQ(explicit_endpoint.endpoint, "http://127.0.0.1:10000/devstoreaccount1");
  auto azure = parse_connection_string(
      "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5;EndpointSuffix=core.windows."
      "net");
  EXPECT_EQ(azure.endpoint, "https://acct.blob.core.windows.net");
  try {
    parse_connection_string("AccountName=acct;AccountKey=");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "azure-blob: the connection string has no AccountKey");
  }
}

TEST(AzureErrors, CodesMapToClasses) {
  HttpResponse r;
  r.status = 404;
  r.headers = {{"x-ms-error-code", "ContainerNotFound"}, {"x-ms-request-id", "rid-1"}};
  auto e = to_error(r, "Put Blob", "missing", "a.png");
  EXPECT_EQ(e.cls(), ErrorClass::not_found);
  EXPECT_STREQ(e.what(),
               "Azure Put Blob: container 'missing' does not exist [ContainerNotFound, HTTP 404, "
               "request id rid-1]");
  r.status = 503;
  r.headers = {{"x-ms-error-code", "ServerBusy"}};
  EXPECT_EQ(to_error(r, "Get Blob", "c", "b").cls(), ErrorClass::rate_limited);
  r.status = 403;
  r.headers = {};
  r.body =
      "<?xml version=\"1.0\" "
      "encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code><Message>Server failed "
      "to authenticate the request.\nRequestId:x\nTime:y</Message></Error>";
  e = to_error(r, "Get Blob", "c", "b");
  EXPECT_EQ(e.cls(), ErrorClass::unauthorized);
  EXPECT_STREQ(
      e.what(),
      "Azure Get Blob: Server failed to authenticate the request. (blob 'b' in container 'c') "
      "[AuthenticationFailed, HTTP 403]");
}

}  // namespace
}  // namespace imagepipe::azure
