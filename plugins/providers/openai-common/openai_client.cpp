#include "openai_client.hpp"

#include "imagepipe/engine.hpp"
#include "openai_errors.hpp"
#include "openai_responses.hpp"

namespace imagepipe::openai {

using nlohmann::json;

namespace {

// The host client's own errors (reset, refused, deadline) keep their class; the message
// loses any secret (the engine adds the provider name).
Error scrubbed(const Connection& c, const Error& e) {
  return Error(e.cls(), scrub(e.what(), c.secrets), e.retry_after());
}

Task<HttpResponse> send(const Connection& c, HttpRequest& request) {
  std::optional<Error> failure;
  try {
    co_return co_await c.http->send(std::move(request));
  } catch (const Error& e) {
    failure = scrubbed(c, e);
  }
  throw *failure;
}

// Result URLs are pre-signed CDN links: fetched without our credentials.
Task<std::string> download(const Connection& c, const std::string& url) {
  HttpRequest request;
  request.method = "GET";
  request.url = url;
  request.timeout = c.timeout;
  request.headers = {{"Accept", "image/*"}};
  HttpResponse response = co_await send(c, request);
  if (response.status / 100 != 2)
    throw Error(ErrorClass::unavailable,
                "downloading the result image failed with HTTP " + std::to_string(response.status));
  co_return std::move(response.body);
}

Inputs make_inputs(const Host& host, const ProviderRequest& request) {
  Inputs in;
  const std::string stem = sanitize_stem(request.item ? request.item->name : "image");
  for (std::size_t i = 0; i < request.images.size(); ++i)
    in.images.push_back(upload_file(
        request.images[i], i == 0 ? stem : stem + "-" + std::to_string(i + 1), host.decode_limits));
  if (request.mask) in.mask = upload_file(*request.mask, stem + "-mask", host.decode_limits, true);
  return in;
}

}  // namespace

Task<Inputs> prepare_inputs(const Host& host, const ProviderRequest& request) {
  if (!host.cpu) co_return make_inputs(host, request);
  co_return co_await host.cpu->run([&]() { return make_inputs(host, request); });
}

void require_credential(bool present, const std::string& what) {
  if (!present) throw Error(ErrorClass::unauthorized, "no credential: " + what);
}

Task<ProviderResult> post_for_images(const Connection& c, const std::string& url,
                                     const std::string& content_type, std::string& body,
                                     AnswerKind kind, const ImageParams& params) {
  if (!c.http) throw Error(ErrorClass::internal, "the host has no HTTP client");
  HttpRequest request;
  request.method = "POST";
  request.url = url;
  request.headers = c.headers;
  request.headers.emplace_back("Content-Type", content_type);
  request.headers.emplace_back("Accept", "application/json");
  request.body = std::move(body);
  request.timeout = c.timeout;
  const HttpResponse response = co_await send(c, request);
  if (response.status / 100 != 2) throw wire_error(response, c.secrets);

  ParsedAnswer answer = kind == AnswerKind::images ? parse_images_answer(response.body)
                                                   : parse_responses_answer(response.body);
  if (answer.images.empty()) {
    if (!answer.failed.empty()) throw Error(ErrorClass::unavailable, answer.failed);
    // The model chose to answer in words (a refusal, a question): nothing to retry blindly.
    throw Error(
        ErrorClass::invalid_input,
        "the answer holds no image" +
            (answer.text.empty() ? std::string() : ": \"" + answer.text.substr(0, 300) + "\""));
  }

  ProviderResult result;
  result.usage = std::move(answer.usage);
  result.metadata = {{"provider", c.provider}, {"model", params.model}};
  if (auto id = request_id(response); !id.empty()) result.metadata["request_id"] = id;
  for (const auto& [k, v] : answer.echo.items()) result.metadata[k] = v;
  for (auto& entry : answer.images) {
    std::string bytes;
    if (entry.url.empty())
      bytes = base64_decode(entry.b64);
    else
      bytes = co_await download(c, entry.url);
    if (sniff_format(bytes) == ImageFormat::unknown)
      throw Error(ErrorClass::unavailable, "a returned image is not PNG, JPEG or WebP (" +
                                               std::to_string(bytes.size()) + " bytes)");
    Artifact image = Artifact::from_bytes(std::move(bytes));
    if (!entry.revised_prompt.empty()) {
      image.metadata["revised_prompt"] = entry.revised_prompt;
      if (answer.images.size() == 1) result.metadata["revised_prompt"] = entry.revised_prompt;
    }
    result.images.push_back(std::move(image));
  }
  co_return result;
}

}  // namespace imagepipe::openai

namespace imagepipe::openai {

Task<ProviderResult> post_for_text(const Connection& c, const std::string& url, std::string& body,
                                   const std::string& model) {
  if (!c.http) throw Error(ErrorClass::internal, "the host has no HTTP client");
  HttpRequest request;
  request.method = "POST";
  request.url = url;
  request.headers = c.headers;
  request.headers.emplace_back("Content-Type", "application/json");
  request.headers.emplace_back("Accept", "application/json");
  request.body = std::move(body);
  request.timeout = c.timeout;
  const HttpResponse response = co_await send(c, request);
  if (response.status / 100 != 2) throw wire_error(response, c.secrets);
  const auto answer = nlohmann::json::parse(response.body, nullptr, false);
  const nlohmann::json* content = nullptr;
  if (answer.is_object() && answer.contains("choices") && answer["choices"].is_array() &&
      !answer["choices"].empty() && answer["choices"][0].is_object()) {
    const auto& choice = answer["choices"][0];
    if (choice.contains("message") && choice["message"].is_object() &&
        choice["message"].contains("content") && choice["message"]["content"].is_string())
      content = &choice["message"]["content"];
  }
  if (!content) throw Error(ErrorClass::unavailable, "the chat answer holds no message content");
  std::string text = content->get<std::string>();
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) throw Error(ErrorClass::unavailable, "the chat answer is empty");
  text = text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
  ProviderResult result;
  result.text = std::move(text);
  if (answer.contains("usage") && answer["usage"].is_object())
    for (const auto& [k, v] : answer["usage"].items())
      if (v.is_number()) result.usage[k] = v;
  result.metadata = {{"provider", c.provider}, {"model", answer.value("model", model)}};
  if (auto id = request_id(response); !id.empty()) result.metadata["request_id"] = id;
  co_return result;
}

}  // namespace imagepipe::openai
