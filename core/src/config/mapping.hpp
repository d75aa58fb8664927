// Typed access to one mapping of the pipeline schema. Unknown keys are reported when the
// mapping is opened; each accessor reports a wrong type or range at the value and returns
// nullopt, so a caller just keeps its default and moves on to the next check.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/load_context.hpp"

namespace imagepipe::config {

class Mapping {
 public:
  static constexpr std::int64_t kUnbounded = std::numeric_limits<std::int64_t>::max();

  // `pointer` locates the mapping in the document; `allowed` lists the keys it may hold.
  // A value that is not a mapping is reported, and every accessor then finds nothing.
  Mapping(LoadContext& context, std::string pointer, std::vector<std::string> allowed);

  bool valid() const { return object_ != nullptr; }
  const std::string& pointer() const { return pointer_; }
  // "pipeline" for the root, else the dotted path ("trigger.http").
  std::string name() const;
  std::string pointer(std::string_view key) const;
  std::string path(std::string_view key) const;

  // The value under `key`; nullptr when absent or empty (null counts as not given).
  const nlohmann::json* get(std::string_view key) const;
  bool has(std::string_view key) const { return get(key) != nullptr; }

  // Strings that are not templates: "$${" already reads as "${" here.
  std::optional<std::string> string(std::string_view key);
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max);
  std::optional<bool> boolean(std::string_view key);
  // One of `choices`, compared exactly.
  std::optional<std::string> choice(std::string_view key, const std::vector<std::string>& choices);
  // A string or a list of strings.
  std::optional<std::vector<std::string>> strings(std::string_view key);
  // A mapping (returned as is).
  const nlohmann::json* mapping(std::string_view key);
  std::optional<Template> template_value(std::string_view key);

  // "sink: 'key' is required when 'use' is given", at the mapping's key.
  void require(std::string_view key, std::string_view condition = {});
  // "source: 'paths' does not apply when from is 'request'", at the offending key.
  void reject(std::string_view key, std::string_view reason, std::string hint = {});

  LoadContext& context() { return context_; }

 private:
  void report_type(std::string_view key, std::string_view expected, std::string hint = {});

  LoadContext& context_;
  std::string pointer_;
  const nlohmann::json* object_ = nullptr;
};

}  // namespace imagepipe::config
