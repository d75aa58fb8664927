// The HTTP side shared by `openai` and `azure-openai`: send through the host's client,
// map failures to error classes, decode or download the images, collect usage and the
// request id. The plugins only decide URLs, headers and bodies.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "imagepipe/host.hpp"
#include "imagepipe/plugin_interfaces.hpp"
#include "openai_params.hpp"
#include "openai_requests.hpp"

namespace imagepipe::openai {

struct Connection {
  std::string provider;  // for metadata: "openai", "azure-openai"
  HttpClient* http = nullptr;
  Headers headers;  // authentication, organization, project
  std::chrono::milliseconds timeout{std::chrono::seconds(600)};
  std::vector<std::string> secrets;  // scrubbed from every message
  DecodeLimits limits;
};

enum class AnswerKind { images, responses };

// POSTs `body` with `content_type` to `url` and turns the answer into images. Throws
// imagepipe::Error with the provider's message, status, code and request id.
// Arguments by reference: callers name them, since g++ 12 mishandles some temporaries in
// co_await expressions.
Task<ProviderResult> post_for_images(const Connection& c, const std::string& url,
                                     const std::string& content_type, std::string& body,
                                     AnswerKind kind, const ImageParams& params);

// POSTs a Chat Completions body and returns the first choice's text, with usage and the
// request id in metadata.
Task<ProviderResult> post_for_text(const Connection& c, const std::string& url, std::string& body,
                                   const std::string& model);

struct Inputs {
  std::vector<UploadFile> images;
  std::optional<UploadFile> mask;
};

// The request's images (and mask, always PNG) as uploadable files named after the item,
// converted on the CPU pool when their format is not one the API takes.
Task<Inputs> prepare_inputs(const Host& host, const ProviderRequest& request);

// Throws Error(unauthorized) without a network call when no credential is configured: a
// request would only earn a 401, and the message should say which option is empty.
void require_credential(bool present, const std::string& what);

}  // namespace imagepipe::openai
