#include "typed_params.hpp"

#include <charconv>
#include <cmath>
#include <optional>
#include <string>

#include "imagepipe/error.hpp"

namespace imagepipe {

namespace {

using nlohmann::json;

// The schema's type, when it is one scalar type other than string.
std::string wanted_type(const json& property) {
  const auto type = property.find("type");
  if (type == property.end()) return {};
  if (type->is_string()) return type->get<std::string>();
  if (type->is_array() && type->size() == 1 && (*type)[0].is_string())
    return (*type)[0].get<std::string>();
  return {};  // several types: the text may be what was meant
}

std::optional<json> as_integer(const std::string& text) {
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return json(value);
}

std::optional<json> as_number(const std::string& text) {
  if (auto integer = as_integer(text)) return integer;
  std::size_t used = 0;
  try {
    const double value = std::stod(text, &used);
    if (used == text.size() && std::isfinite(value)) return json(value);
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

std::optional<json> as_boolean(const std::string& text) {
  if (text == "true") return json(true);
  if (text == "false") return json(false);
  return std::nullopt;
}

}  // namespace

void coerce_params(json& params, const json& options_schema) {
  if (!params.is_object()) return;
  const auto properties = options_schema.find("properties");
  if (properties == options_schema.end() || !properties->is_object()) return;
  for (auto& [key, value] : params.items()) {
    if (!value.is_string()) continue;
    const auto property = properties->find(key);
    if (property == properties->end()) continue;
    const std::string type = wanted_type(*property);
    const auto& text = value.get_ref<const std::string&>();
    std::optional<json> converted;
    if (type == "integer")
      converted = as_integer(text);
    else if (type == "number")
      converted = as_number(text);
    else if (type == "boolean")
      converted = as_boolean(text);
    else
      continue;
    if (!converted)
      throw Error(ErrorClass::invalid_input, "params." + key + ": '" + text.substr(0, 60) +
                                                 "' is not " + (type == "integer" ? "an " : "a ") +
                                                 type);
    value = std::move(*converted);
  }
}

}  // namespace imagepipe
