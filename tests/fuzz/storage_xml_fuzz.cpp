// libFuzzer target for the XML answers of S3 and Azure Blob (plugins/storage/s3/s3_xml.cpp,
// plugins/storage/azure-blob/azure_xml.cpp): an object store, or whatever answers at its
// address, sends them. pugixml parses; what is fuzzed is our reading of the tree (keys,
// sizes, dates, percent-decoding). Every answer is a page or an Error, never another
// exception, which the storage plugins would not classify.
#include <cstdint>
#include <string>

#include "azure_xml.hpp"
#include "imagepipe/error.hpp"
#include "s3_xml.hpp"

using namespace imagepipe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  (void)s3::parse_error(body);
  try {
    const auto page = s3::parse_list(body);
    if (page.objects.size() > size) __builtin_trap();
  } catch (const Error&) {
  }
  try {
    (void)s3::parse_upload_id(body);
  } catch (const Error&) {
  }
  try {
    (void)azure::parse_list(body);
  } catch (const Error&) {
  }
  HttpResponse response;
  response.status = 400 + static_cast<int>(size % 200);
  response.body = body;
  const Error e = azure::to_error(response, "List Blobs", "c", "b");
  if (std::string(e.what()).find("HTTP " + std::to_string(response.status)) == std::string::npos)
    __builtin_trap();
  return 0;
}
