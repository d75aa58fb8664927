#include "azure_xml.hpp"

#include <pugixml.hpp>

#include <ctime>
#include <sstream>

#include "imagepipe/retry.hpp"

namespace imagepipe::azure {
ListPage parse_list(const std::string& body) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size()))
    throw Error(ErrorClass::unavailable, "Azure List Blobs answered with a body that is not XML");
  auto root = doc.child("EnumerationResults");
  if (!root)
    throw Error(ErrorClass::unavailable, "Azure List Blobs answered without <EnumerationResults>");
  ListPage page;
  for (auto blob : root.child("Blobs").children("Blob")) {
    ObjectInfo info;
    info.key = blob.child_value("Name");
    auto props = blob.child("Properties");
    info.size = std::strtoull(props.child_value("Content-Length"), nullptr, 10);
    info.content_type = props.child_value("Content-Type");
    info.etag = props.child_value("Etag");
    info.last_modified =
        parse_http_date(props.child_value("Last-Modified")).value_or(std::chrono::system_clock::time_point{});
    for (auto m : blob.child("Metadata").children()) info.metadata[m.name()] = m.text().as_string();
    page.objects.push_back(std::move(info));
  }
  page.next_token = root.child_value("NextMarker");
  return page;
}

std::string block_list_body(const std::vector<std::string>& block_ids) {
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "utf-8";
  auto root = doc.append_child("BlockList");
  for (const auto& id : block_ids) root.append_child("Latest").text() = id.c_str();
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw);
  return out.str();
}

ErrorClass class_for(const std::string& code, int status) {
  if (code == "ContainerNotFound" || code == "BlobNotFound" || code == "ResourceNotFound")
    return ErrorClass::not_found;
  if (code == "AuthenticationFailed" || code == "AuthorizationFailure" ||
      code == "AuthorizationPermissionMismatch" || code == "InvalidAuthenticationInfo" ||
      code == "NoAuthenticationInformation")
    return ErrorClass::unauthorized;
  if (code == "ServerBusy" || status == 429) return ErrorClass::rate_limited;
  if (code == "OperationTimedOut") return ErrorClass::timeout;
  if (code == "InternalError" || status >= 500) return ErrorClass::unavailable;
  if (status == 404) return ErrorClass::not_found;
  if (status == 401 || status == 403) return ErrorClass::unauthorized;
  return ErrorClass::invalid_input;
}

namespace {
// HEAD replies have no body: x-ms-error-code is the only signal there.
std::string code_and_message(const HttpResponse& response, std::string* message) {
  std::string code = response.header("x-ms-error-code").value_or("");
  pugi::xml_document doc;
  if (!response.body.empty() && doc.load_buffer(response.body.data(), response.body.size())) {
    if (auto err = doc.child("Error")) {
      if (code.empty()) code = err.child_value("Code");
      if (message) {
        *message = err.child_value("Message");
        *message = message->substr(0, message->find('\n'));  // the rest repeats RequestId and Time
      }
    }
  }
  return code;
}
}  // namespace

std::string error_code(const HttpResponse& response) { return code_and_message(response, nullptr); }

Error to_error(const HttpResponse& response, const std::string& operation,
               const std::string& container, const std::string& blob) {
  std::string message;
  const std::string code = code_and_message(response, &message);
  const auto request_id = response.header("x-ms-request-id").value_or("");
  std::string what;
  if (code == "ContainerNotFound") {
    what = "container '" + container + "' does not exist";
  } else if (code == "BlobNotFound" || (code.empty() && response.status == 404)) {
    what = "no blob '" + blob + "' in container '" + container + "'";
  } else {
    what = message.empty() ? "request failed" : message;
    what += blob.empty() ? " (container '" + container + "')"
                         : " (blob '" + blob + "' in container '" + container + "')";
  }
  std::string msg = "Azure " + operation + ": " + what + " [" + (code.empty() ? "" : code + ", ") +
                    "HTTP " + std::to_string(response.status);
  if (!request_id.empty()) msg += ", request id " + request_id;
  msg += "]";
  std::optional<std::chrono::milliseconds> retry_after;
  if (auto ra = response.header("retry-after")) retry_after = parse_retry_after(*ra);
  return Error(class_for(code, response.status), msg, retry_after);
}

}  // namespace imagepipe::azure
