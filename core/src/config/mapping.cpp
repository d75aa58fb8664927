#include "config/mapping.hpp"

#include <algorithm>

#include "config/suggest.hpp"

namespace imagepipe::config {

namespace {

using nlohmann::json;

const json* find_pointer(const json& root, const std::string& pointer) {
  const json::json_pointer location(pointer);
  return root.contains(location) ? &root.at(location) : nullptr;
}

// A string the YAML would have typed had it not been quoted.
bool reads_as(const json& value, json::value_t type) {
  if (!value.is_string()) return false;
  const json typed = resolve_plain_scalar(value.get<std::string>());
  return typed.type() == type ||
         (type == json::value_t::number_integer && typed.is_number_unsigned());
}

// Outside templates a "$${" escape has nothing left to protect: it reads as "${".
std::string unescape(std::string text) {
  for (std::size_t at = text.find("$${"); at != std::string::npos; at = text.find("$${", at + 2)) {
    text.erase(at, 1);
  }
  return text;
}

}  // namespace

std::string describe_value(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "nothing";
    case json::value_t::object:
      return "a mapping";
    case json::value_t::array:
      return "a list";
    case json::value_t::string: {
      std::string text = value.get<std::string>();
      if (text.size() > 40) text = text.substr(0, 37) + "...";
      return "'" + text + "'";
    }
    default:
      return value.dump();
  }
}

Mapping::Mapping(LoadContext& context, std::string location, std::vector<std::string> allowed)
    : context_(context), pointer_(std::move(location)) {
  const json* value = find_pointer(context_.document.root, pointer_);
  if (!value || value->is_null()) return;
  if (!value->is_object()) {
    context_.report(context_.document.at_value(
        pointer_, name() + " must be a mapping, got " + describe_value(*value)));
    return;
  }
  object_ = value;
  std::sort(allowed.begin(), allowed.end());
  for (const auto& [key, child] : object_->items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    context_.report(context_.document.at_key(pointer(key), "unknown key '" + key + "' in " + name(),
                                             suggestion_hint(key, allowed, "allowed keys")));
  }
}

std::string Mapping::name() const { return context_.document.describe(pointer_); }

std::string Mapping::pointer(std::string_view key) const { return child_pointer(pointer_, key); }

std::string Mapping::path(std::string_view key) const {
  const std::string parent = context_.document.describe(pointer_);
  return pointer_.empty() ? std::string(key) : child_path(parent, key);
}

const json* Mapping::get(std::string_view key) const {
  if (!object_) return nullptr;
  auto found = object_->find(key);
  if (found == object_->end() || found->is_null()) return nullptr;
  return &*found;
}

void Mapping::report_type(std::string_view key, std::string_view expected, std::string hint) {
  context_.report(context_.document.at_value(
      pointer(key),
      path(key) + " must be " + std::string(expected) + ", got " + describe_value(*get(key)),
      std::move(hint)));
}

std::optional<std::string> Mapping::string(std::string_view key) {
  const json* value = get(key);
  if (!value) return std::nullopt;
  if (!value->is_string()) {
    report_type(key, "a string");
    return std::nullopt;
  }
  return unescape(value->get<std::string>());
}

std::optional<std::int64_t> Mapping::integer(std::string_view key, std::int64_t min,
                                             std::int64_t max) {
  const json* value = get(key);
  if (!value) return std::nullopt;
  const std::optional<json> typed = context_.typed_variable(pointer(key), *value);
  if (typed) value = &*typed;
  if (value->is_number_unsigned()) {
    const std::uint64_t number = value->get<std::uint64_t>();
    if (number <= static_cast<std::uint64_t>(max) && static_cast<std::int64_t>(number) >= min) {
      return static_cast<std::int64_t>(number);
    }
  } else if (value->is_number_integer()) {
    const std::int64_t number = value->get<std::int64_t>();
    if (number >= min && number <= max) return number;
  }
  const std::string expected = max == kUnbounded ? "an integer of at least " + std::to_string(min)
                                                 : "an integer between " + std::to_string(min) +
                                                       " and " + std::to_string(max);
  report_type(key, expected,
              reads_as(*value, json::value_t::number_integer)
                  ? "remove the quotes to make it a number"
                  : "");
  return std::nullopt;
}

std::optional<bool> Mapping::boolean(std::string_view key) {
  const json* value = get(key);
  if (!value) return std::nullopt;
  if (auto typed = context_.typed_variable(pointer(key), *value); typed && typed->is_boolean()) {
    return typed->get<bool>();
  }
  if (value->is_boolean()) return value->get<bool>();
  std::string hint;
  if (reads_as(*value, json::value_t::boolean)) {
    hint = "remove the quotes to make it true or false";
  } else if (value->is_string()) {
    const std::string text = value->get<std::string>();
    for (std::string_view word : {"yes", "no", "on", "off", "Yes", "No", "On", "Off"}) {
      if (text == word) hint = "YAML 1.2 reads '" + text + "' as text; write true or false";
    }
  }
  report_type(key, "true or false", std::move(hint));
  return std::nullopt;
}

std::optional<std::string> Mapping::choice(std::string_view key,
                                           const std::vector<std::string>& choices) {
  const json* value = get(key);
  if (!value) return std::nullopt;
  if (value->is_string()) {
    const std::string text = value->get<std::string>();
    if (std::find(choices.begin(), choices.end(), text) != choices.end()) return text;
    report_type(key, "one of " + join(choices), suggestion_hint(text, choices, ""));
  } else {
    report_type(key, "one of " + join(choices));
  }
  return std::nullopt;
}

std::optional<std::vector<std::string>> Mapping::strings(std::string_view key) {
  const json* value = get(key);
  if (!value) return std::nullopt;
  if (value->is_string()) return std::vector<std::string>{unescape(value->get<std::string>())};
  if (value->is_array()) {
    std::vector<std::string> out;
    bool ok = true;
    for (std::size_t i = 0; i < value->size(); ++i) {
      const json& element = (*value)[i];
      if (element.is_string()) {
        out.push_back(unescape(element.get<std::string>()));
        continue;
      }
      ok = false;
      const std::string element_pointer = child_pointer(pointer(key), i);
      context_.report(context_.document.at_value(
          element_pointer,
          child_path(path(key), i) + " must be a string, got " + describe_value(element)));
    }
    if (ok) return out;
    return std::nullopt;
  }
  report_type(key, "a string or a list of strings");
  return std::nullopt;
}

const json* Mapping::mapping(std::string_view key) {
  const json* value = get(key);
  if (!value) return nullptr;
  if (!value->is_object()) {
    report_type(key, "a mapping");
    return nullptr;
  }
  return value;
}

std::optional<Template> Mapping::template_value(std::string_view key) {
  const json* value = get(key);
  if (!value) return std::nullopt;
  if (!value->is_string()) {
    report_type(key, "a string");
    return std::nullopt;
  }
  return context_.compile_template(pointer(key), *value);
}

void Mapping::require(std::string_view key, std::string_view condition) {
  if (!object_ || has(key)) return;
  if (object_->contains(key)) {
    context_.report(context_.document.at_key(pointer(key), path(key) + " must not be empty"));
    return;
  }
  std::string message = name() + ": '" + std::string(key) + "' is required";
  if (!condition.empty()) message += " " + std::string(condition);
  context_.report(context_.document.at_key(pointer_, std::move(message)));
}

void Mapping::reject(std::string_view key, std::string_view reason, std::string hint) {
  context_.report(context_.document.at_key(
      pointer(key), name() + ": '" + std::string(key) + "' " + std::string(reason),
      std::move(hint)));
}

}  // namespace imagepipe::config
