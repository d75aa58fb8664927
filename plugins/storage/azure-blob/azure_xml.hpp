// Azure Blob's XML: error bodies, List Blobs pages, the Put Block List body.
#pragma once

#include <string>
#include <vector>

#include "imagepipe/error.hpp"
#include "imagepipe/http.hpp"
#include "imagepipe/plugin_interfaces.hpp"

namespace imagepipe::azure {

ListPage parse_list(const std::string& body);
std::string block_list_body(const std::vector<std::string>& block_ids);

ErrorClass class_for(const std::string& code, int status);
// The x-ms-error-code header, else the <Code> of the body; empty when neither is there.
std::string error_code(const HttpResponse& response);
// `operation` is Azure's name for the call (Put Blob...), `blob` empty for container calls.
Error to_error(const HttpResponse& response, const std::string& operation,
               const std::string& container, const std::string& blob);

}  // namespace imagepipe::azure
