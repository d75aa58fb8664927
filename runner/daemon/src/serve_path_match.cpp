#include "serve_path_match.hpp"

#include <cctype>
#include <charconv>

#include "imagepipe/registry.hpp"

namespace imagepipe::serve {

using nlohmann::json;

namespace {

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 1;  // past the leading '/'
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// A path segment's percent-escapes decoded ('+' is a plus in a path, not a space).
// Nullopt for an escape that is not two hex digits: no route can mean it.
std::optional<std::string> decode_segment(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(s[i + 2])))
      return std::nullopt;
    int value = 0;
    std::from_chars(s.data() + i + 1, s.data() + i + 3, value, 16);
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

// "42" as 42 when the schema wants a number; left a string otherwise, so the schema's
// own message names the mismatch.
json typed(const std::string& text, const json& schema) {
  const std::string type = schema.is_object() ? schema.value("type", "") : "";
  if (type == "integer") {
    long long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc() && end == text.data() + text.size()) return value;
  } else if (type == "number") {
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc() && end == text.data() + text.size()) return value;
  } else if (type == "boolean") {
    if (text == "true") return true;
    if (text == "false") return false;
  }
  return text;
}

}  // namespace

PathPattern::PathPattern(std::string pattern) : text_(std::move(pattern)) {
  for (const auto part : split(text_)) {
    const bool parameter = part.size() > 2 && part.front() == '{' && part.back() == '}';
    segments_.push_back(
        {std::string(parameter ? part.substr(1, part.size() - 2) : part), parameter});
    templated_ = templated_ || parameter;
  }
}

std::optional<std::map<std::string, std::string>> PathPattern::match(std::string_view path) const {
  if (path.empty() || path.front() != '/') return std::nullopt;
  const auto parts = split(path);
  if (parts.size() != segments_.size()) return std::nullopt;
  std::map<std::string, std::string> values;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& segment = segments_[i];
    if (!segment.parameter) {
      if (parts[i] != segment.text) return std::nullopt;
      continue;
    }
    auto value = decode_segment(parts[i]);
    if (!value || value->empty()) return std::nullopt;
    values[segment.text] = std::move(*value);
  }
  return values;
}

json typed_path_values(const std::map<std::string, std::string>& values,
                       const std::map<std::string, json>& schemas,
                       std::vector<FieldProblem>& problems) {
  json out = json::object();
  for (const auto& [name, text] : values) {
    const auto schema = schemas.find(name);
    if (schema == schemas.end()) {
      out[name] = text;
      continue;
    }
    json value = typed(text, schema->second);
    for (const auto& issue : validate_json(schema->second, value))
      problems.push_back({{"path", name},
                          issue.message,
                          issue.message.rfind("must be a", 0) == 0 ? "type_error" : "value_error"});
    out[name] = std::move(value);
  }
  return out;
}

}  // namespace imagepipe::serve
