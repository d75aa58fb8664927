// A provider's `params` are rendered per request, but their types are known when the file
// loads: the option schema says n is an integer, the request schema what a body field
// holds. A default that can never convert, or a field of another type, is a load error
// rather than every job failing.
#include <charconv>
#include <cmath>

#include "config/pipeline_schema.hpp"

namespace imagepipe::config {

namespace {

using nlohmann::json;

std::string scalar_type(const json& schema) {
  if (!schema.is_object()) return {};
  const auto type = schema.find("type");
  if (type == schema.end()) return {};
  if (type->is_string()) return type->get<std::string>();
  if (type->is_array() && type->size() == 1 && (*type)[0].is_string())
    return (*type)[0].get<std::string>();
  return {};
}

bool converts(const std::string& text, const std::string& type) {
  if (type == "boolean") return text == "true" || text == "false";
  long long integer = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), integer);
  if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) return true;
  if (type == "integer") return false;
  try {
    std::size_t used = 0;
    const double number = std::stod(text, &used);
    return used == text.size() && std::isfinite(number);
  } catch (const std::exception&) {
    return false;
  }
}

std::string article(const std::string& type) { return type == "integer" ? "an " : "a "; }

// Whether a request body field of type `field` can become the option's `wanted` type.
bool compatible(const std::string& field, const std::string& wanted) {
  if (field.empty() || field == wanted || field == "string")
    return true;  // text is read at run time
  return wanted == "number" && field == "integer";
}

}  // namespace

void check_param_types(Mapping& entry, const PluginUse& plugin, const json& params) {
  if (!plugin.descriptor || !params.is_object()) return;
  LoadContext& context = entry.context();
  const json& options = plugin.descriptor->options_schema;
  const auto properties = options.find("properties");
  if (properties == options.end() || !properties->is_object()) return;
  const json* request_schema = nullptr;
  if (const auto trigger = context.document.root.find("trigger");
      trigger != context.document.root.end() && trigger->is_object())
    if (const auto schema = trigger->find("request_schema"); schema != trigger->end())
      request_schema = &*schema;

  for (const auto& [key, value] : params.items()) {
    if (!value.is_string()) continue;
    const auto property = properties->find(key);
    if (property == properties->end()) continue;
    const std::string wanted = scalar_type(*property);
    if (wanted != "integer" && wanted != "number" && wanted != "boolean") continue;
    const std::string pointer = child_pointer(entry.pointer("params"), key);
    const std::string text = value.get<std::string>();
    const std::string option = plugin.use + "'s option " + key + " is " + article(wanted) + wanted;
    std::vector<TemplatePiece> pieces;
    try {
      pieces = split_template(text);
    } catch (const TemplateError&) {
      continue;  // reported by the template check
    }
    const bool constant = std::all_of(pieces.begin(), pieces.end(), [](const TemplatePiece& p) {
      return p.kind == TemplatePiece::Kind::text;
    });
    if (constant) {
      if (!converts(text, wanted))
        context.report(context.document.at_value(
            pointer, "params." + key + ": '" + text + "' is not " + article(wanted) + wanted,
            option));
      continue;
    }
    if (pieces.size() != 1) continue;  // text around a placeholder: checked when rendered
    const TemplatePiece& piece = pieces.front();
    if (piece.fallback && piece.fallback->find("${") == std::string::npos &&
        !converts(*piece.fallback, wanted)) {
      context.report(context.document.at_value(pointer,
                                               "params." + key + ": the default '" +
                                                   *piece.fallback + "' is not " + article(wanted) +
                                                   wanted,
                                               option));
      continue;
    }
    constexpr std::string_view kBody = "request.body.";
    if (!request_schema || piece.text.rfind(kBody, 0) != 0) continue;
    const std::string field = piece.text.substr(kBody.size());
    if (field.find_first_of(".[") != std::string::npos) continue;
    const json* field_schema = nullptr;
    if (request_schema->is_object())
      if (const auto props = request_schema->find("properties");
          props != request_schema->end() && props->is_object() && props->contains(field))
        field_schema = &(*props)[field];
    if (!field_schema) continue;
    const std::string holds = scalar_type(*field_schema);
    if (!compatible(holds, wanted))
      context.report(context.document.at_value(
          pointer,
          "params." + key + ": request_schema types " + field + " as " + holds + ", but " + option,
          "make " + field + " " + article(wanted) + wanted + " in request_schema"));
  }
}

}  // namespace imagepipe::config
