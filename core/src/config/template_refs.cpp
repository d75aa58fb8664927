#include "config/template_refs.hpp"

#include <map>
#include <vector>

#include "config/suggest.hpp"

namespace imagepipe::config {

namespace {

using nlohmann::json;
using Fields = std::vector<std::string>;

// The scope the engine builds (core/src/engine/summary.cpp, engine.cpp), root by root.
// Empty: anything goes below that root.
const std::map<std::string, Fields>& root_fields() {
  static const std::map<std::string, Fields> fields = {
      {"job",
       {"id", "pipeline", "status", "error", "error_class", "started_at", "finished_at",
        "duration_seconds"}},
      {"request", {"id", "body", "headers", "query", "path"}},
      // Only in trigger.http.responses bodies: the failure being answered.
      {"error", {"status", "class", "message", "detail"}},
      {"item", {"index", "name", "stem", "ext", "width", "height", "output_ext"}},
      {"output",
       {"index", "count", "suffix", "step", "step_index", "ext", "mime", "id", "width", "height",
        "metadata"}},
      {"metrics",
       {"total_files", "processed", "failed", "fell_back", "duration_seconds", "errors",
        "error_count", "outputs", "provider_attempts", "fall_throughs", "provider_seconds",
        "providers", "usage"}},
      {"now",
       {"iso", "date", "compact", "year", "month", "day", "hour", "minute", "second", "timestamp"}},
      {"sink", {}},
      {"provider", {}},
  };
  return fields;
}

const Fields& item_fields() {
  static const Fields fields = {"index",
                                "name",
                                "stem",
                                "ext",
                                "status",
                                "attempts",
                                "fallback",
                                "duration_seconds",
                                "provider",
                                "error",
                                "error_class",
                                "notes",
                                "usage",
                                "fall_throughs",
                                "provider_seconds",
                                "chain",
                                "outputs",
                                "mime",
                                "key",
                                "url",
                                "expires_in",
                                "base64",
                                "width",
                                "height",
                                "bytes",
                                "output_ext"};
  return fields;
}

// "items[0].url" → {"items", "[0]", "url"}; "errors[:20]" → {"errors", "[:20]"}.
std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  std::string current;
  for (char c : path) {
    if (c == '.') {
      if (!current.empty()) parts.push_back(current);
      current.clear();
    } else if (c == '[') {
      if (!current.empty()) parts.push_back(current);
      current = "[";
    } else if (c == ']') {
      parts.push_back(current + "]");
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) parts.push_back(current);
  return parts;
}

bool is_index(const std::string& part) { return !part.empty() && part.front() == '['; }

std::optional<ReferenceProblem> unknown(const std::string& where, const std::string& field,
                                        const Fields& allowed) {
  return ReferenceProblem{"unknown field '" + field + "' in " + where,
                          suggestion_hint(field, allowed, where + " has")};
}

std::optional<ReferenceProblem> check_body(const std::vector<std::string>& parts,
                                           const json& schema) {
  if (parts.size() < 3 || is_index(parts[2])) return std::nullopt;
  const auto properties = schema.is_object() ? schema.find("properties") : schema.end();
  if (!schema.is_object() || properties == schema.end() || !properties->is_object())
    return std::nullopt;  // no schema to hold it to
  if (properties->contains(parts[2])) return std::nullopt;
  Fields names;
  for (const auto& [name, _] : properties->items()) names.push_back(name);
  return ReferenceProblem{"'" + parts[2] + "' is not a field of the request body (request_schema)",
                          suggestion_hint(parts[2], names, "request_schema has")};
}

}  // namespace

// steps.NAME.FIELD: NAME a declared step, FIELD one of what the engine records for it.
std::optional<ReferenceProblem> check_step(const std::vector<std::string>& parts,
                                           const Fields& step_names) {
  static const Fields fields = {"step",   "alternative", "provider", "runs",     "attempts",
                                "images", "seconds",     "usage",    "metadata", "text"};
  if (parts.size() < 2) return std::nullopt;
  if (is_index(parts[1]))
    return ReferenceProblem{"steps is not a list", "write steps.<step name>.<field>"};
  if (std::find(step_names.begin(), step_names.end(), parts[1]) == step_names.end())
    return ReferenceProblem{"no step is named '" + parts[1] + "'",
                            suggestion_hint(parts[1], step_names, "steps are")};
  if (parts.size() < 3 || is_index(parts[2])) return std::nullopt;
  if (std::find(fields.begin(), fields.end(), parts[2]) == fields.end())
    return unknown("steps." + parts[1], parts[2], fields);
  return std::nullopt;
}

std::optional<ReferenceProblem> check_reference(std::string_view path, const json& request_schema,
                                                const std::vector<std::string>& step_names,
                                                const std::optional<std::vector<std::string>>& path_params) {
  const auto parts = split_path(path);
  if (parts.empty()) return std::nullopt;
  const std::string& root = parts[0];
  if (root == "steps") return check_step(parts, step_names);
  if (root == "items") {
    if (parts.size() < 2) return std::nullopt;
    if (!is_index(parts[1]))
      return ReferenceProblem{"items is a list: '" + parts[1] + "' needs an index",
                              "write items[0]." + parts[1]};
    if (parts.size() < 3 || is_index(parts[2])) return std::nullopt;
    const auto& allowed = item_fields();
    if (std::find(allowed.begin(), allowed.end(), parts[2]) == allowed.end())
      return unknown("items[]", parts[2], allowed);
    return std::nullopt;
  }
  const auto it = root_fields().find(root);
  if (it == root_fields().end() || it->second.empty() || parts.size() < 2) return std::nullopt;
  if (is_index(parts[1]))
    return ReferenceProblem{root + " is not a list", "write " + root + ".<field>"};
  const auto& allowed = it->second;
  if (std::find(allowed.begin(), allowed.end(), parts[1]) == allowed.end())
    return unknown(root, parts[1], allowed);
  if (root == "request" && parts[1] == "body") return check_body(parts, request_schema);
  if (root == "request" && parts[1] == "path" && path_params && parts.size() > 2 &&
      !is_index(parts[2]) &&
      std::find(path_params->begin(), path_params->end(), parts[2]) == path_params->end())
    return ReferenceProblem{"'" + parts[2] + "' is not a parameter of trigger.http.path",
                            path_params->empty()
                                ? "the path has no {name} segments"
                                : suggestion_hint(parts[2], *path_params, "the path has")};
  return std::nullopt;
}

}  // namespace imagepipe::config
