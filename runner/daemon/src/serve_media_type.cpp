#include "serve_media_type.hpp"
#include "imagepipe/ascii.hpp"

#include <string_view>

namespace imagepipe::serve {

namespace {

std::string essence(const std::string& content_type) {
  std::string_view type(content_type);
  type = type.substr(0, type.find(';'));
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  std::string out(type);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) { return trim_blanks(s); }

// The charset parameter's value, lower case and unquoted; "" when there is none.
std::string charset_of(const std::string& content_type) {
  std::string_view rest(content_type);
  for (auto semicolon = rest.find(';'); semicolon != std::string_view::npos;
       semicolon = rest.find(';')) {
    rest.remove_prefix(semicolon + 1);
    const auto parameter = trim(rest.substr(0, rest.find(';')));
    const auto equals = parameter.find('=');
    if (equals == std::string_view::npos || ascii_lower(trim(parameter.substr(0, equals))) != "charset")
      continue;
    auto value = trim(parameter.substr(equals + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    return ascii_lower(value);
  }
  return "";
}

// The client's text, cut short: it is quoted back and need not be printable.
std::string shown(const std::string& text) {
  return text.size() > 100 ? text.substr(0, 100) + "..." : text;
}

}  // namespace

bool is_json_media_type(const std::string& content_type) {
  const std::string type = essence(content_type);
  constexpr std::string_view prefix = "application/", suffix = "+json";
  if (type == "application/json") return true;
  return type.size() > prefix.size() + suffix.size() && type.starts_with(prefix) &&
         type.ends_with(suffix) && type.find('/', prefix.size()) == std::string::npos;
}

std::optional<std::string> json_media_type_problem(const std::string* content_type, bool has_body) {
  const std::string accepted = "send application/json (or application/*+json)";
  if (content_type && is_json_media_type(*content_type)) {
    // RFC 8259 §8.1: JSON between systems is UTF-8; a body in another charset would be
    // read as UTF-8 bytes and fail somewhere less clear.
    const auto charset = charset_of(*content_type);
    if (charset.empty() || charset == "utf-8" || charset == "utf8") return std::nullopt;
    return "charset '" + shown(charset) + "' is not accepted here; JSON is sent as UTF-8";
  }
  if (!content_type) {
    if (!has_body) return std::nullopt;
    return "request has a body but no Content-Type; " + accepted;
  }
  return "Content-Type '" + shown(*content_type) + "' is not accepted here; " + accepted;
}

std::optional<std::string> content_encoding_problem(const std::string* content_encoding) {
  if (!content_encoding || ascii_lower(trim(*content_encoding)) == "identity" ||
      trim(*content_encoding).empty())
    return std::nullopt;
  // Decompressing a client's body is a decompression bomb waiting to happen, and no client
  // of these routes needs it.
  return "Content-Encoding '" + shown(*content_encoding) +
         "' is not accepted here; send the body uncompressed";
}

}  // namespace imagepipe::serve
