// trigger.http.responses (a route's answer per outcome) and trigger.http.path_params (the
// schema of each `{name}` segment of its path). The daemon renders and enforces them
// (runner/src/serve_outcomes.cpp, serve_path_match.cpp); here they are read and checked
// once, with the file's line and column.
#include <algorithm>

#include "config/pipeline_schema.hpp"
#include "config/plugin_use.hpp"
#include "config/suggest.hpp"

namespace imagepipe::config {

namespace {

using nlohmann::json;

const std::vector<std::string> kOutcomes = {"accepted", "completed", "failed", "invalid_request",
                                            "error"};
const std::vector<std::string> kOutcomeKeys = {"status", "body"};
const std::vector<std::string> kFailedKeys = {"status", "by_class", "body"};
const std::vector<std::string> kErrorKeys = {"body"};

std::optional<Template> read_body(Mapping& block) {
  const json* body = block.get("body");
  if (!body) return std::nullopt;
  return block.context().compile_template(block.pointer("body"), *body);
}

void read_by_class(Mapping& block, OutcomeResponse& out) {
  const json* map = block.mapping("by_class");
  if (!map) return;
  LoadContext& context = block.context();
  const std::vector<std::string> classes(error_class_names().begin(), error_class_names().end());
  for (const auto& [name, status] : map->items()) {
    const std::string pointer = child_pointer(block.pointer("by_class"), name);
    if (!error_class_from_string(name)) {
      context.report(context.document.at_key(
          pointer, block.path("by_class") + ": '" + name + "' is not an error class",
          suggestion_hint(name, classes, "error classes are")));
      continue;
    }
    if (!status.is_number_integer() || status.get<std::int64_t>() < 400 ||
        status.get<std::int64_t>() > 599) {
      context.report(context.document.at_value(
          pointer,
          block.path("by_class") + "." + name + " must be an HTTP status from 400 to 599"));
      continue;
    }
    out.by_class[name] = status.get<int>();
  }
}

OutcomeResponse read_outcome(Mapping& responses, const std::string& outcome) {
  const bool failure = outcome != "accepted" && outcome != "completed";
  Mapping block(responses.context(), responses.pointer(outcome),
                outcome == "failed" ? kFailedKeys : kOutcomeKeys);
  OutcomeResponse out;
  // A success answered with an error status (or the reverse) would mislead every client
  // that looks at the status first.
  const auto status =
      failure ? block.integer("status", 400, 599) : block.integer("status", 200, 299);
  if (status) out.status = static_cast<int>(*status);
  if (outcome == "failed") read_by_class(block, out);
  out.body = read_body(block);
  return out;
}

// "/api/v1/images/{image_id}" → {"image_id"}; reports a malformed or repeated name.
std::vector<std::string> path_names(Mapping& http, const std::string& path) {
  LoadContext& context = http.context();
  std::vector<std::string> names;
  std::size_t start = 0;
  while ((start = path.find('{', start)) != std::string::npos) {
    const auto end = path.find('}', start);
    const std::string name =
        end == std::string::npos ? "" : path.substr(start + 1, end - start - 1);
    const bool whole_segment =
        path[start - 1] == '/' && (end + 1 == path.size() || path[end + 1] == '/');
    const bool word = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
    if (end == std::string::npos || !word || !whole_segment) {
      context.report(context.document.at_value(
          http.pointer("path"),
          http.path("path") + ": a parameter is a whole segment named with letters, digits and '_'",
          "write /images/{image_id}"));
      return {};
    }
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      context.report(context.document.at_value(
          http.pointer("path"), http.path("path") + ": parameter '" + name + "' appears twice"));
      return {};
    }
    names.push_back(name);
    start = end + 1;
  }
  return names;
}

}  // namespace

void read_route_responses(Mapping& http, HttpTrigger& trigger) {
  Mapping responses(http.context(), http.pointer("responses"), kOutcomes);
  if (!responses.valid()) return;
  auto& out = trigger.responses;
  for (const auto& outcome : kOutcomes) {
    if (!responses.has(outcome)) continue;
    if (outcome == "error") {
      Mapping block(responses.context(), responses.pointer(outcome), kErrorKeys);
      block.require("body");
      out.error = read_body(block);
      continue;
    }
    auto read = read_outcome(responses, outcome);
    if (outcome == "accepted") out.accepted = std::move(read);
    if (outcome == "completed") out.completed = std::move(read);
    if (outcome == "failed") out.failed = std::move(read);
    if (outcome == "invalid_request") out.invalid_request = std::move(read);
  }
  if (trigger.mode == HttpTrigger::Mode::render || trigger.mode == HttpTrigger::Mode::storage)
    responses.context().report(responses.context().document.at_key(
        http.pointer("responses"),
        http.path("responses") + " does not apply to a route that runs no job",
        "template and storage routes answer with their own contract"));
}

void read_storage_route(Mapping& http, HttpTrigger& trigger) {
  const bool storage_mode = trigger.mode == HttpTrigger::Mode::storage;
  if (!storage_mode) {
    if (http.has("storage")) http.reject("storage", "only applies when mode is 'storage'");
    return;
  }
  http.require("storage", "when mode is 'storage'");
  Mapping block(http.context(), http.pointer("storage"), {"use", "with", "action", "key"});
  if (!block.valid()) return;
  StorageRoute route;
  block.require("action");
  if (auto action = block.choice("action", {"info", "download", "delete"}))
    route.action = *action == "download" ? StorageRoute::Action::download
                   : *action == "delete" ? StorageRoute::Action::remove
                                         : StorageRoute::Action::info;
  block.require("key");
  if (auto key = block.template_value("key")) route.key = std::move(*key);
  route.storage = read_plugin_use(block, PluginKind::storage);
  trigger.storage = std::move(route);
}

void read_path_params(Mapping& http, HttpTrigger& trigger) {
  const auto names = path_names(http, trigger.path);
  for (const auto& name : names)
    trigger.path_params[name] = json{{"type", "string"}, {"minLength", 1}};
  const json* declared = http.mapping("path_params");
  if (!declared) return;
  LoadContext& context = http.context();
  for (const auto& [name, schema] : declared->items()) {
    const std::string pointer = child_pointer(http.pointer("path_params"), name);
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      context.report(context.document.at_key(
          pointer, http.path("path_params") + ": '" + name + "' is not a parameter of the path",
          names.empty() ? "write it in the path as {" + name + "}"
                        : suggestion_hint(name, names, "the path has")));
      continue;
    }
    if (!schema.is_object()) {
      context.report(context.document.at_value(
          pointer, http.path("path_params") + "." + name + " must be a JSON Schema (a mapping)"));
      continue;
    }
    trigger.path_params[name] = schema;
  }
}

}  // namespace imagepipe::config
