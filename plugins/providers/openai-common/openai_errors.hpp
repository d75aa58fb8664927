// OpenAI's error envelope and retry signals mapped onto imagepipe's error classes. The
// class is decided from the HTTP status and error.code/type, never from the message; the
// message keeps the provider's own text and the request id for support tickets.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "imagepipe/error.hpp"
#include "imagepipe/http.hpp"

namespace imagepipe::openai {

// How long the server asked us to wait: retry-after-ms, then retry-after (seconds or an
// HTTP date), then the x-ratelimit-reset-* durations ("1s", "6m0s", "12ms").
std::optional<std::chrono::milliseconds> retry_delay(const HttpResponse& response);

// "6m0s", "1.5s", "12ms" → milliseconds.
std::optional<std::chrono::milliseconds> parse_go_duration(std::string_view text);

// The error for a non-2xx answer. Every value in
// `secrets` is replaced by *** (a key echoed back by the server must not leak).
Error wire_error(const HttpResponse& response, const std::vector<std::string>& secrets);

// The same text scrubbing for messages built elsewhere.
std::string scrub(std::string text, const std::vector<std::string>& secrets);

// x-request-id, or Azure's apim-request-id; empty when neither is present.
std::string request_id(const HttpResponse& response);

}  // namespace imagepipe::openai
