#include "serve_media_type.hpp"

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

}  // namespace

bool is_json_media_type(const std::string& content_type) {
  const std::string type = essence(content_type);
  constexpr std::string_view prefix = "application/", suffix = "+json";
  if (type == "application/json") return true;
  return type.size() > prefix.size() + suffix.size() && type.starts_with(prefix) &&
         type.ends_with(suffix) && type.find('/', prefix.size()) == std::string::npos;
}

std::optional<std::string> json_media_type_problem(const std::string* content_type, bool has_body) {
  if (content_type ? is_json_media_type(*content_type) : !has_body) return std::nullopt;
  const std::string accepted = "send application/json (or application/*+json)";
  if (!content_type) return "request has a body but no Content-Type; " + accepted;
  // The client's text, cut short: it is quoted back and need not be printable.
  std::string shown = content_type->substr(0, 100);
  if (content_type->size() > 100) shown += "...";
  return "Content-Type '" + shown + "' is not accepted here; " + accepted;
}

}  // namespace imagepipe::serve
