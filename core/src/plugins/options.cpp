// Option validation against a plugin's JSON Schema.
//
// The common mistakes (unknown key, wrong type, out of range, not in the enum, missing
// key) are checked by a small walker that writes messages a pipeline author can act on.
// Everything else in draft 7 (if/then, oneOf, patterns...) is left to valijson, whose
// messages are used only when the walker found nothing.
#include <algorithm>
#include <optional>
#include <regex>
#include <sstream>

// Without it valijson reports a schema it cannot read (`type: Object`, say) by calling
// abort(): a typo in a pipeline file's request_schema would end the process instead of
// being a diagnostic.
#define VALIJSON_USE_EXCEPTIONS 1
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include "imagepipe/registry.hpp"

namespace imagepipe {

namespace {

using nlohmann::json;

std::string escape_pointer_token(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

// At most a few dozen characters of the value, and never a walk of the whole of it: an
// untrusted value may be megabytes long or nested thousands deep.
std::string short_text(const json& v) {
  switch (v.type()) {
    case json::value_t::object: return "an object";
    case json::value_t::array: return "a list";
    case json::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      std::string text = json(s.substr(0, 60)).dump(-1, ' ', false, json::error_handler_t::replace);
      if (s.size() > 60) text.insert(text.size() - 1, "...");
      return text;
    }
    default: return v.dump();  // a scalar
  }
}

std::string describe_value(const json& v) {
  switch (v.type()) {
    case json::value_t::string: return "string " + short_text(v);
    case json::value_t::boolean: return "boolean " + short_text(v);
    case json::value_t::null: return "null";
    case json::value_t::object:
    case json::value_t::array: return short_text(v);
    default: return "number " + short_text(v);
  }
}

bool type_matches(const std::string& type, const json& v) {
  if (type == "string") return v.is_string();
  if (type == "integer") return v.is_number_integer() || (v.is_number_float() && v.get<double>() == static_cast<long long>(v.get<double>()));
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_boolean();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "null") return v.is_null();
  return true;
}

std::string article(const std::string& type) {
  if (type == "integer") return "an integer";
  if (type == "object") return "an object";
  if (type == "array") return "a list";
  return "a " + type;
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

std::string number_text(const json& n) {
  if (n.is_number_integer()) return std::to_string(n.get<long long>());
  std::ostringstream s;
  s << n.get<double>();
  return s.str();
}

// A `pattern` the value does not match, in words: "\S" (the usual "not blank") says so;
// other patterns are quoted. ECMAScript syntax, as JSON Schema uses; an invalid pattern is
// left to valijson.
std::optional<std::string> pattern_problem(const std::string& pattern, const std::string& value) {
  try {
    if (std::regex_search(value, std::regex(pattern, std::regex::ECMAScript))) return std::nullopt;
  } catch (const std::regex_error&) {
    return std::nullopt;
  }
  if (pattern == "\\S") return "must not be blank";
  return "must match the pattern " + pattern;
}

void walk(const json& schema, const json& value, const std::string& pointer,
          std::vector<OptionIssue>& issues) {
  if (!schema.is_object()) return;
  if (auto t = schema.find("type"); t != schema.end()) {
    std::vector<std::string> types;
    if (t->is_string()) types.push_back(*t);
    else if (t->is_array())
      for (const auto& x : *t) types.push_back(x.get<std::string>());
    bool ok = types.empty() || std::any_of(types.begin(), types.end(), [&](const std::string& ty) { return type_matches(ty, value); });
    if (!ok) {
      std::vector<std::string> names;
      for (auto& ty : types) names.push_back(article(ty));
      issues.push_back({pointer, "must be " + join(names, " or ") + ", got " + describe_value(value)});
      return;  // deeper checks would only repeat the problem
    }
  }
  if (auto e = schema.find("enum"); e != schema.end() && e->is_array()) {
    if (std::find(e->begin(), e->end(), value) == e->end()) {
      std::vector<std::string> allowed;
      for (const auto& x : *e) allowed.push_back(x.is_string() ? x.get<std::string>() : x.dump());
      issues.push_back({pointer, "must be one of " + join(allowed, ", ") + "; got " + short_text(value)});
    }
  }
  if (value.is_number()) {
    double v = value.get<double>();
    if (auto m = schema.find("minimum"); m != schema.end() && v < m->get<double>())
      issues.push_back({pointer, "must be >= " + number_text(*m) + ", got " + number_text(value)});
    if (auto m = schema.find("maximum"); m != schema.end() && v > m->get<double>())
      issues.push_back({pointer, "must be <= " + number_text(*m) + ", got " + number_text(value)});
    if (auto m = schema.find("exclusiveMinimum"); m != schema.end() && m->is_number() && v <= m->get<double>())
      issues.push_back({pointer, "must be > " + number_text(*m) + ", got " + number_text(value)});
  }
  if (value.is_string()) {
    auto length = value.get<std::string>().size();
    if (auto m = schema.find("minLength"); m != schema.end() && length < m->get<std::size_t>())
      issues.push_back({pointer, m->get<std::size_t>() == 1 ? "must not be empty"
                                                             : "must be at least " + m->dump() + " characters long"});
    if (auto m = schema.find("maxLength"); m != schema.end() && length > m->get<std::size_t>())
      issues.push_back({pointer, "must be at most " + m->dump() + " characters long"});
    if (auto p = schema.find("pattern"); p != schema.end() && p->is_string()) {
      if (auto problem = pattern_problem(p->get<std::string>(), value.get_ref<const std::string&>()))
        issues.push_back({pointer, *problem});
    }
  }
  if (value.is_object()) {
    const json* props = schema.contains("properties") ? &schema["properties"] : nullptr;
    if (auto r = schema.find("required"); r != schema.end())
      for (const auto& key : *r)
        if (!value.contains(key.get<std::string>()))
          issues.push_back({pointer, "missing required option '" + key.get<std::string>() + "'",
                            OptionIssue::Kind::missing_key});
    bool closed = schema.contains("additionalProperties") && schema["additionalProperties"] == false;
    for (const auto& [key, v] : value.items()) {
      std::string child = pointer + "/" + escape_pointer_token(key);
      if (props && props->contains(key)) {
        walk((*props)[key], v, child, issues);
      } else if (closed) {
        OptionIssue issue{child, "unknown option '" + key + "'", OptionIssue::Kind::unknown_key};
        if (props)
          for (const auto& [allowed, s] : props->items()) issue.allowed.push_back(allowed);
        issues.push_back(std::move(issue));
      } else if (auto ap = schema.find("additionalProperties"); ap != schema.end() && ap->is_object()) {
        walk(*ap, v, child, issues);
      }
    }
  }
  if (value.is_array()) {
    if (auto m = schema.find("minItems"); m != schema.end() && value.size() < m->get<std::size_t>())
      issues.push_back({pointer, "must have at least " + m->dump() + " item(s)"});
    if (auto m = schema.find("maxItems"); m != schema.end() && value.size() > m->get<std::size_t>())
      issues.push_back({pointer, "must have at most " + m->dump() + " item(s)"});
    if (auto items = schema.find("items"); items != schema.end() && items->is_object())
      for (std::size_t i = 0; i < value.size(); ++i)
        walk(*items, value[i], pointer + "/" + std::to_string(i), issues);
  }
}

// valijson context ["<root>", "[size]", "[0]"] → "/size/0".
std::string pointer_from_context(const std::vector<std::string>& context) {
  std::string out;
  for (const auto& part : context) {
    if (part.size() >= 2 && part.front() == '[' && part.back() == ']')
      out += "/" + escape_pointer_token(part.substr(1, part.size() - 2));
  }
  return out;
}

std::vector<OptionIssue> validate_with_valijson(const json& schema, const json& doc) {
  valijson::Schema parsed;
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter schema_adapter(schema);
  try {
    parser.populateSchema(schema_adapter, parsed);
  } catch (const std::exception& e) {
    return {{"", std::string("the option schema itself is invalid: ") + e.what()}};
  }
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter doc_adapter(doc);
  if (validator.validate(parsed, doc_adapter, &results)) return {};
  // Keep only the deepest messages: parents just say "a child failed".
  std::vector<valijson::ValidationResults::Error> errors(results.begin(), results.end());
  std::size_t deepest = 0;
  for (const auto& e : errors) deepest = std::max(deepest, e.context.size());
  std::vector<OptionIssue> issues;
  for (const auto& e : errors) {
    bool has_child = std::any_of(errors.begin(), errors.end(), [&](const auto& other) {
      return other.context.size() > e.context.size() &&
             std::equal(e.context.begin(), e.context.end(), other.context.begin());
    });
    if (!has_child) issues.push_back({pointer_from_context(e.context), e.description});
  }
  return issues;
}

void fill_defaults(const json& schema, json& value) {
  if (!schema.is_object() || !value.is_object()) return;
  auto props = schema.find("properties");
  if (props == schema.end()) return;
  for (const auto& [key, sub] : props->items()) {
    if (!value.contains(key) && sub.is_object() && sub.contains("default")) value[key] = sub["default"];
    if (value.contains(key) && value[key].is_object()) fill_defaults(sub, value[key]);
  }
}

void collect_secrets(const json& schema, const std::string& pointer, std::vector<std::string>& out) {
  if (!schema.is_object()) return;
  if (schema.value("writeOnly", false)) out.push_back(pointer);
  if (auto props = schema.find("properties"); props != schema.end())
    for (const auto& [key, sub] : props->items()) collect_secrets(sub, pointer + "/" + escape_pointer_token(key), out);
}

}  // namespace

std::vector<OptionIssue> validate_json(const json& schema, const json& doc) {
  std::vector<OptionIssue> issues;
  try {
    walk(schema, doc, "", issues);
  } catch (const json::exception&) {
    // A keyword of the wrong type (`maximum: "0A9"`, found by the pipeline fuzzer): the
    // schema says nothing checkable there, which is the schema's problem to report.
    issues.push_back({"", "the schema cannot be applied (a keyword has a value of the wrong type)"});
    return issues;
  }
  if (issues.empty()) issues = validate_with_valijson(schema, doc);
  return issues;
}

OptionCheck check_options(const PluginDescriptor& descriptor, const json& with) {
  OptionCheck check;
  check.options = with.is_null() ? json::object() : with;
  if (!check.options.is_object()) {
    check.issues.push_back({"", "'with' must be a mapping of options, got " + describe_value(with)});
    return check;
  }
  check.issues = validate_json(descriptor.options_schema, check.options);
  if (check.ok()) fill_defaults(descriptor.options_schema, check.options);
  return check;
}

std::vector<std::string> secret_pointers(const json& schema) {
  std::vector<std::string> out;
  collect_secrets(schema, "", out);
  return out;
}

}  // namespace imagepipe
