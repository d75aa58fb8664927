#include "s3_xml.hpp"

#include <pugixml.hpp>

#include <cctype>
#include <charconv>
#include <ctime>
#include <sstream>

#include "imagepipe/error.hpp"

namespace imagepipe::s3 {
namespace {

// The first descendant (or self) whose local name is `name`, namespace prefix ignored.
pugi::xml_node find_local(pugi::xml_node node, const char* name) {
  return node.find_node([name](pugi::xml_node n) {
    std::string_view full = n.name();
    auto colon = full.find(':');
    if (colon != std::string_view::npos) full.remove_prefix(colon + 1);
    return n.type() == pugi::node_element && full == name;
  });
}

std::string child_text(pugi::xml_node node, const char* name) {
  for (auto c : node.children()) {
    std::string_view full = c.name();
    auto colon = full.find(':');
    if (colon != std::string_view::npos) full.remove_prefix(colon + 1);
    if (full == name) return c.text().as_string();
  }
  return {};
}

std::string percent_decode(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';  // S3's encoding-type=url is form encoding: '+' is a space
    } else {
      out += s[i];
    }
  }
  return out;
}

// std::stoull would throw std::out_of_range past 2^64, which no caller classifies.
std::uint64_t parse_size(const std::string& text) {
  std::uint64_t size = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), size);
  if (!text.empty() && (ec != std::errc{} || end != text.data() + text.size()))
    throw Error(ErrorClass::unavailable,
                "S3 listed an object whose size is not a number: '" + text.substr(0, 40) + "'");
  return size;
}

pugi::xml_document load(const std::string& body, const char* what) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size()))
    throw Error(ErrorClass::unavailable,
                std::string("S3 answered ") + what + " with a body that is not XML");
  return doc;
}

}  // namespace

ServiceError parse_error(const std::string& body) {
  ServiceError e;
  pugi::xml_document doc;
  if (body.empty() || !doc.load_buffer(body.data(), body.size())) return e;
  auto err = find_local(doc, "Error");
  if (!err) return e;
  e.code = child_text(err, "Code");
  e.message = child_text(err, "Message");
  e.request_id = child_text(err, "RequestId");
  return e;
}

ListPage parse_list(const std::string& body) {
  auto doc = load(body, "a listing");
  auto root = find_local(doc, "ListBucketResult");
  if (!root)
    throw Error(ErrorClass::unavailable, "S3 answered a listing without <ListBucketResult>");
  const bool url_encoded = child_text(root, "EncodingType") == "url";
  ListPage page;
  for (auto c : root.children()) {
    std::string_view name = c.name();
    if (name.substr(name.find(':') == std::string_view::npos ? 0 : name.find(':') + 1) !=
        "Contents")
      continue;
    ObjectInfo info;
    info.key = child_text(c, "Key");
    if (url_encoded) info.key = percent_decode(info.key);
    info.size = parse_size(child_text(c, "Size"));
    info.etag = child_text(c, "ETag");
    info.last_modified = parse_iso8601(child_text(c, "LastModified"));
    page.objects.push_back(std::move(info));
  }
  if (child_text(root, "IsTruncated") == "true") {
    page.next_token = child_text(root, "NextContinuationToken");
    if (page.next_token.empty())
      throw Error(ErrorClass::unavailable,
                  "S3 said the listing is truncated but sent no continuation token");
  }
  return page;
}

std::string parse_upload_id(const std::string& body) {
  auto doc = load(body, "CreateMultipartUpload");
  auto id = child_text(find_local(doc, "InitiateMultipartUploadResult"), "UploadId");
  if (id.empty())
    throw Error(ErrorClass::unavailable, "S3 answered CreateMultipartUpload without an UploadId");
  return id;
}

std::string complete_body(const std::vector<std::pair<int, std::string>>& parts) {
  pugi::xml_document doc;
  auto root = doc.append_child("CompleteMultipartUpload");
  root.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
  for (const auto& [number, etag] : parts) {
    auto part = root.append_child("Part");
    part.append_child("PartNumber").text() = number;
    part.append_child("ETag").text() = etag.c_str();
  }
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw);
  return out.str();
}

std::string create_bucket_body(const std::string& region) {
  if (region.empty() || region == "us-east-1") return {};
  pugi::xml_document doc;
  auto root = doc.append_child("CreateBucketConfiguration");
  root.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
  root.append_child("LocationConstraint").text() = region.c_str();
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw | pugi::format_no_declaration);
  return out.str();
}

std::chrono::system_clock::time_point parse_iso8601(const std::string& text) {
  std::tm tm{};
  if (!strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return {};
  // Past 2200 system_clock's nanoseconds would overflow: no date, as for unreadable text.
  const std::time_t seconds = timegm(&tm);
  if (seconds == -1 || seconds > 7'258'118'400 || seconds < -7'258'118'400) return {};
  return std::chrono::system_clock::from_time_t(seconds);
}

}  // namespace imagepipe::s3
