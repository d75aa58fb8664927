// Which request bodies a JSON route takes, judged from Content-Type before the body is
// parsed: a client that sends a form or plain text has a bug to be told about (415), not
// a body to be guessed at.
#pragma once

#include <optional>
#include <string>

namespace imagepipe::serve {

// What JSON routes accept, as the 415's `accepted` lists it.
inline constexpr const char* kJsonMediaTypes[] = {"application/json", "application/*+json"};

// application/json or application/<anything>+json, in any case, parameters (charset=...)
// allowed.
bool is_json_media_type(const std::string& content_type);

// The 415 message for a request to a JSON route, or nullopt when its Content-Type is fine.
// `content_type` is null when the header is absent; a request without a body needs none.
// A charset other than UTF-8 is refused too.
std::optional<std::string> json_media_type_problem(const std::string* content_type, bool has_body);

// The 415 message for a body sent with a Content-Encoding (gzip...), or nullopt.
std::optional<std::string> content_encoding_problem(const std::string* content_encoding);

}  // namespace imagepipe::serve
