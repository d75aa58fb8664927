#include "config/plugin_use.hpp"

#include <algorithm>
#include <cstdlib>

#include "config/suggest.hpp"

namespace imagepipe::config {

namespace {

using nlohmann::json;

constexpr std::string_view kUse = "use";
constexpr std::string_view kWith = "with";

std::string unescape_pointer_token(std::string token) {
  std::string out;
  for (std::size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '~' && i + 1 < token.size()) {
      out += token[i + 1] == '1' ? '/' : '~';
      ++i;
    } else {
      out += token[i];
    }
  }
  return out;
}

// "/size/width" → "size.width", "/sizes/0" → "sizes[0]", judged against the options.
std::string option_name(const json& options, const std::string& pointer) {
  std::string name;
  const json* current = &options;
  std::size_t start = 1;
  while (start <= pointer.size() && !pointer.empty()) {
    std::size_t end = pointer.find('/', start);
    if (end == std::string::npos) end = pointer.size();
    const std::string token = unescape_pointer_token(pointer.substr(start, end - start));
    if (current && current->is_array()) {
      name += "[" + token + "]";
      const std::size_t index = std::strtoul(token.c_str(), nullptr, 10);
      current = index < current->size() ? &(*current)[index] : nullptr;
    } else {
      name += (name.empty() ? "" : ".") + token;
      current = current && current->is_object() && current->contains(token) ? &(*current)[token]
                                                                            : nullptr;
    }
    start = end + 1;
  }
  return name;
}

class OptionChecker {
 public:
  OptionChecker(LoadContext& context, const PluginDescriptor& descriptor, std::string with_pointer)
      : context_(context), descriptor_(descriptor), with_pointer_(std::move(with_pointer)) {}

  // The options with defaults filled in, or nullopt when they do not validate.
  std::optional<json> check(const json& with) {
    // Values only known at run time (a string that is exactly one runtime placeholder, or
    // an unset variable under allow_missing_env) would fail type checks unfairly: they are
    // validated from a copy without them, where the schema no longer requires them. The
    // plugin sees the real value and checks it when it renders.
    json checked = with;
    PluginDescriptor relaxed = descriptor_;
    remove_unknowable(checked, relaxed.options_schema, "");
    retype_variables(checked, descriptor_.options_schema, "");

    OptionCheck result = check_options(relaxed, checked);
    for (const OptionIssue& issue : result.issues) report(issue, with);
    if (!result.ok()) return std::nullopt;

    for (const auto& [pointer, value] : removed_) {
      const json::json_pointer location(pointer);
      if (result.options.contains(location.parent_pointer())) result.options[location] = value;
    }
    return result.options;
  }

 private:
  void remove_unknowable(json& value, json& schema, const std::string& pointer) {
    if (!value.is_object()) return;
    json* properties =
        schema.is_object() && schema.contains("properties") && schema["properties"].is_object()
            ? &schema["properties"]
            : nullptr;
    for (auto it = value.begin(); it != value.end();) {
      const std::string child = child_pointer(pointer, it.key());
      const std::string absolute = with_pointer_ + child;
      const auto& environment = context_.environment;
      if (environment.runtime_only.count(absolute) || environment.unresolved.count(absolute)) {
        if (schema.is_object() && schema.contains("required") && schema["required"].is_array()) {
          auto& required = schema["required"];
          required.erase(std::remove(required.begin(), required.end(), json(it.key())),
                         required.end());
        }
        removed_.emplace_back(child, it.value());
        it = value.erase(it);
        continue;
      }
      if (properties && properties->contains(it.key())) {
        remove_unknowable(it.value(), (*properties)[it.key()], child);
      }
      ++it;
    }
  }

  // A quoted "${SIZE:-256}" where the schema wants a number is read as one.
  void retype_variables(json& value, const json& schema, const std::string& pointer) {
    if (!schema.is_object()) return;
    if (value.is_string()) {
      auto typed = context_.typed_variable(with_pointer_ + pointer, value);
      if (typed && accepts(schema, *typed) && !accepts(schema, value)) value = std::move(*typed);
    } else if (value.is_object() && schema.contains("properties")) {
      const json& properties = schema["properties"];
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (properties.contains(it.key())) {
          retype_variables(it.value(), properties[it.key()], child_pointer(pointer, it.key()));
        }
      }
    } else if (value.is_array() && schema.contains("items")) {
      for (std::size_t i = 0; i < value.size(); ++i) {
        retype_variables(value[i], schema["items"], child_pointer(pointer, i));
      }
    }
  }

  // Whether the schema's "type" admits the value (no "type" admits nothing here: without
  // one there is no reason to change a string).
  static bool accepts(const json& schema, const json& value) {
    auto type = schema.find("type");
    if (type == schema.end()) return false;
    std::vector<std::string> types;
    if (type->is_string()) types.push_back(type->get<std::string>());
    if (type->is_array()) {
      for (const json& name : *type) {
        if (name.is_string()) types.push_back(name.get<std::string>());
      }
    }
    for (const std::string& name : types) {
      if ((name == "string" && value.is_string()) || (name == "boolean" && value.is_boolean()) ||
          (name == "integer" && value.is_number_integer()) ||
          (name == "number" && value.is_number())) {
        return true;
      }
    }
    return false;
  }

  void report(const OptionIssue& issue, const json& with) {
    const std::string plugin =
        std::string(to_string(descriptor_.kind())) + " '" + descriptor_.name + "'";
    const std::string absolute = with_pointer_ + issue.pointer;
    const std::string name = option_name(with, issue.pointer);
    const YamlDocument& document = context_.document;
    switch (issue.kind) {
      case OptionIssue::Kind::unknown_key: {
        std::vector<std::string> allowed = issue.allowed;
        std::sort(allowed.begin(), allowed.end());
        const std::string key =
            unescape_pointer_token(issue.pointer.substr(issue.pointer.rfind('/') + 1));
        context_.report(document.at_key(absolute, "unknown option '" + name + "' for " + plugin,
                                        suggestion_hint(key, allowed, "allowed options")));
        return;
      }
      case OptionIssue::Kind::missing_key:
        context_.report(document.at_key(absolute, subject(name, plugin) + issue.message));
        return;
      case OptionIssue::Kind::invalid:
        context_.report(document.at_value(absolute, subject(name, plugin) + issue.message));
        return;
    }
  }

  static std::string subject(const std::string& option, const std::string& plugin) {
    return option.empty() ? plugin + ": " : "option '" + option + "' of " + plugin + ": ";
  }

  LoadContext& context_;
  const PluginDescriptor& descriptor_;
  std::string with_pointer_;
  std::vector<std::pair<std::string, json>> removed_;
};

void collect_secrets(LoadContext& context, const PluginDescriptor& descriptor,
                     const std::string& with_pointer, const json& options) {
  for (const std::string& secret : secret_pointers(descriptor.options_schema)) {
    const std::string absolute = with_pointer + secret;
    for (const auto& [pointer, values] : context.environment.substituted) {
      if (pointer != absolute && pointer.rfind(absolute + "/", 0) != 0) continue;
      for (const std::string& value : values) context.secrets.push_back(value);
    }
    // A secret written into the file itself is just as secret. (Where variables were
    // substituted, their values above are the secret part, not the text around them.)
    const auto& environment = context.environment;
    if (environment.substituted.count(absolute) || environment.unresolved.count(absolute)) continue;
    const json::json_pointer location(secret);
    if (options.contains(location) && options.at(location).is_string()) {
      const std::string& value = options.at(location).get_ref<const std::string&>();
      if (value.find("${") == std::string::npos) context.secrets.push_back(value);
    }
  }
}

std::string wrong_kind_hint(const PluginRegistry& registry, const std::string& name,
                            PluginKind wanted) {
  for (PluginKind kind : kPluginKinds) {
    if (kind != wanted && registry.find(kind, name)) {
      return "'" + name + "' is a " + std::string(to_string(kind)) + " plugin, not a " +
             std::string(to_string(wanted)) + " plugin";
    }
  }
  return {};
}

}  // namespace

std::optional<PluginUse> read_plugin_use(Mapping& entry, PluginKind kind) {
  LoadContext& context = entry.context();
  if (!entry.valid()) return std::nullopt;
  entry.require(kUse);
  const std::optional<std::string> name = entry.string(kUse);
  if (!name) return std::nullopt;

  const std::string kind_name(to_string(kind));
  const RegisteredPlugin* found = context.registry.find(kind, *name);
  if (!found) {
    std::string hint = wrong_kind_hint(context.registry, *name, kind);
    if (hint.empty()) {
      const std::vector<std::string> available = context.registry.names(kind);
      hint = available.empty() ? "no " + kind_name + " plugins are registered"
                               : suggestion_hint(*name, available, "available");
    }
    context.report(context.document.at_value(
        entry.pointer(kUse), "unknown " + kind_name + " plugin '" + *name + "'", std::move(hint)));
    return std::nullopt;
  }

  json with = json::object();
  if (entry.has(kWith)) {
    with = *entry.get(kWith);
    if (!with.is_object()) {
      context.report(context.document.at_value(
          entry.pointer(kWith),
          entry.path(kWith) + " must be a mapping of options, got " + describe_value(with)));
      return std::nullopt;
    }
  }

  const PluginDescriptor& descriptor = *found->descriptor;
  const std::string with_pointer = entry.pointer(kWith);
  // Before checking: a message about a bad value must not show a secret either.
  collect_secrets(context, descriptor, with_pointer, with);
  auto options = OptionChecker(context, descriptor, with_pointer).check(with);
  if (!options) return std::nullopt;

  PluginUse use;
  use.kind = kind;
  use.use = *name;
  use.with = std::move(*options);
  use.descriptor = &descriptor;
  use.mark = context.document.at_value(entry.pointer(kUse), "").mark;
  return use;
}

}  // namespace imagepipe::config
