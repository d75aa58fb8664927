// A typed builder for a plugin's options schema (JSON Schema draft 7, the subset the core
// validates and `plugins describe` prints), so a plugin states each option once, in C++,
// instead of writing nested JSON literals whose typos ("minimun") JSON Schema ignores:
//
//   d.options_schema = schema::options()
//       .add(kStrength, schema::number().range(0, 1).fallback(1.0)
//                           .describe("0 leaves the image unchanged, 1 is full sepia."))
//       .add(kApiKey, schema::string().secret().describe("The service's key."))
//       .require(kApiKey);
//
// Cross-field rules (anyOf, if/then) that have no builder call yet go in rule(), as JSON.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace imagepipe::schema {

// One value's schema: its type and constraints.
class Field {
 public:
  explicit Field(std::string type) { json_["type"] = std::move(type); }

  // What the option does, for `plugins describe` and the generated reference.
  Field& describe(std::string text) { return set("description", std::move(text)); }
  // The value filled in when the option is left out.
  Field& fallback(nlohmann::json value) { return set("default", std::move(value)); }
  // Example values, shown in the reference.
  Field& examples(std::initializer_list<nlohmann::json> values) {
    return set("examples", nlohmann::json::array_t(values));
  }
  // The only values allowed.
  Field& one_of(std::initializer_list<nlohmann::json> values) {
    return set("enum", nlohmann::json::array_t(values));
  }
  Field& min(double value) { return set("minimum", number(value)); }
  Field& max(double value) { return set("maximum", number(value)); }
  Field& range(double low, double high) { return min(low).max(high); }
  Field& min_length(std::int64_t n) { return set("minLength", n); }
  Field& max_length(std::int64_t n) { return set("maxLength", n); }
  Field& pattern(std::string regex) { return set("pattern", std::move(regex)); }
  Field& format(std::string name) { return set("format", std::move(name)); }
  Field& min_items(std::int64_t n) { return set("minItems", n); }
  Field& max_items(std::int64_t n) { return set("maxItems", n); }
  // A secret (an API key): the core redacts its value from logs, errors and descriptions.
  Field& secret() { return set("writeOnly", true); }
  // Any other keyword, for what the builder has no call for.
  Field& rule(const std::string& keyword, nlohmann::json value) {
    return set(keyword, std::move(value));
  }

  const nlohmann::json& json() const& { return json_; }
  nlohmann::json json() && { return std::move(json_); }
  operator nlohmann::json() const& { return json_; }
  operator nlohmann::json() && { return std::move(json_); }

 private:
  Field& set(const std::string& key, nlohmann::json value) {
    json_[key] = std::move(value);
    return *this;
  }
  // Whole numbers stay integers, so a default or bound reads `1`, not `1.0`.
  static nlohmann::json number(double value) {
    const auto whole = static_cast<std::int64_t>(value);
    if (static_cast<double>(whole) == value) return whole;
    return value;
  }

  nlohmann::json json_ = nlohmann::json::object();
};

inline Field string() { return Field("string"); }
inline Field integer() { return Field("integer"); }
inline Field number() { return Field("number"); }
inline Field boolean() { return Field("boolean"); }
inline Field array(const Field& items) {
  Field f("array");
  f.rule("items", items.json());
  return f;
}

// An object's schema: named fields, which of them are required, and whether other keys
// are refused (they are by default, so a misspelt option is an error, not ignored).
class Object {
 public:
  Object& add(const std::string& name, nlohmann::json field) {
    json_["properties"][name] = std::move(field);
    return *this;
  }
  Object& require(const std::string& name) {
    json_["required"].push_back(name);
    return *this;
  }
  Object& allow_other_keys() {
    json_["additionalProperties"] = true;
    return *this;
  }
  Object& describe(std::string text) {
    json_["description"] = std::move(text);
    return *this;
  }
  // Cross-field rules: anyOf, oneOf, if/then, dependencies...
  Object& rule(const std::string& keyword, nlohmann::json value) {
    json_[keyword] = std::move(value);
    return *this;
  }

  const nlohmann::json& json() const& { return json_; }
  nlohmann::json json() && { return std::move(json_); }
  operator nlohmann::json() const& { return json_; }
  operator nlohmann::json() && { return std::move(json_); }

 private:
  nlohmann::json json_ = {{"type", "object"},
                          {"additionalProperties", false},
                          {"properties", nlohmann::json::object()}};
};

// A plugin's `with:` block.
inline Object options() { return Object(); }
inline Object object() { return Object(); }

}  // namespace imagepipe::schema
