// trigger: how a pipeline is started over HTTP (schedules: schedule_schema.cpp), and the
// JSON Schemas that document it.
#include <algorithm>

#include "config/pipeline_schema.hpp"
#include "config/suggest.hpp"

namespace imagepipe::config {

namespace {

using nlohmann::json;

const std::vector<std::string> kTriggerKeys = {"http", "request_schema", "callback_schema",
                                               "response", "response_schema", "schedule"};
const std::vector<std::string> kHttpKeys = {"method",  "path",         "mode",       "callback_header",
                                            "sync_wait_ms", "summary", "operation_id", "unavailable",
                                            "auth", "responses", "path_params", "storage",
                                            "batch", "catalogue"};
const std::vector<std::string> kAuthKeys = {"anonymous", "roles", "scopes"};
const std::vector<std::string> kTriggerResponseKeys = {"status", "body"};
// What a route that runs no job has no use for, and what only such a route uses.
const std::vector<std::string> kJobHttpKeys = {"callback_header", "sync_wait_ms"};
const std::vector<std::string> kJobTriggerKeys = {"request_schema", "callback_schema"};
const std::vector<std::string> kRenderTriggerKeys = {"response", "response_schema"};
const std::vector<std::string> kMethods = {"GET", "POST", "PUT", "PATCH", "DELETE"};
constexpr std::int64_t kMaxSyncWaitMs = 3'600'000;

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](char c) {
    return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  });
  return text;
}

// {status, body}: a declared answer; the body is a template.
ResponseSpec read_response(Mapping& parent, std::string_view key) {
  Mapping block(parent.context(), parent.pointer(key), kTriggerResponseKeys);
  ResponseSpec response;
  block.require("status");
  if (auto status = block.integer("status", 100, 599)) response.status = static_cast<int>(*status);
  if (const json* body = block.get("body")) {
    if (auto compiled = block.context().compile_template(block.pointer("body"), *body))
      response.body = std::move(*compiled);
  }
  return response;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_';
}

// An operationId names a tool (watsonx Orchestrate) or a function (code generators), so
// it must read as an identifier in both.
bool is_identifier(std::string_view text) {
  return !text.empty() && !is_digit(text.front()) && std::all_of(text.begin(), text.end(), is_word);
}

// "process-image async" → "process_image_async": what the author most likely meant.
std::string as_identifier(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (is_word(c)) {
      out += c;
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  if (!out.empty() && is_digit(out.front())) out.insert(0, "_");
  return out;
}

// trigger.http.auth: {anonymous, roles, scopes}; the daemon enforces it (serve_auth.cpp).
RouteAuth read_route_auth(Mapping& http) {
  Mapping block(http.context(), http.pointer("auth"), kAuthKeys);
  RouteAuth auth;
  if (auto anonymous = block.boolean("anonymous")) auth.anonymous = *anonymous;
  if (auto roles = block.strings("roles")) auth.roles = *roles;
  if (auto scopes = block.strings("scopes")) auth.scopes = *scopes;
  if (auth.anonymous && auth.restricts())
    block.reject(block.has("roles") ? "roles" : "scopes",
                 "does not apply when anonymous is true: no caller is identified");
  return auth;
}

std::optional<HttpTrigger> read_http(Mapping& trigger) {
  Mapping http(trigger.context(), trigger.pointer("http"), kHttpKeys);
  if (!http.valid()) return std::nullopt;
  LoadContext& context = http.context();
  HttpTrigger result;

  // Methods are case-insensitive in the file and upper case from here on.
  if (auto method = http.string("method")) {
    const std::string normalized = upper(*method);
    if (std::find(kMethods.begin(), kMethods.end(), normalized) == kMethods.end()) {
      context.report(context.document.at_value(
          http.pointer("method"),
          http.path("method") + " must be one of " + join(kMethods) + ", got '" + *method + "'",
          suggestion_hint(normalized, kMethods, "")));
    } else {
      result.method = normalized;
    }
  }
  http.require("path");
  if (auto path = http.string("path")) {
    if (path->empty() || path->front() != '/') {
      context.report(context.document.at_value(
          http.pointer("path"), http.path("path") + " must start with '/', got '" + *path + "'",
          "write '/" + *path + "'"));
    }
    result.path = *path;
  }
  if (auto mode = http.choice("mode", {"async", "sync", "template", "storage"})) {
    result.mode = *mode == "sync"       ? HttpTrigger::Mode::sync
                  : *mode == "template" ? HttpTrigger::Mode::render
                  : *mode == "storage"  ? HttpTrigger::Mode::storage
                                        : HttpTrigger::Mode::async;
  }
  if (result.mode == HttpTrigger::Mode::render || result.mode == HttpTrigger::Mode::storage) {
    const std::string mode = result.mode == HttpTrigger::Mode::render ? "template" : "storage";
    for (const auto& key : kJobHttpKeys) {
      if (http.has(key)) http.reject(key, "does not apply when mode is '" + mode + "': it runs no job");
    }
  }
  read_storage_route(http, result);
  if (auto header = http.string("callback_header")) result.callback_header = *header;
  if (auto wait = http.integer("sync_wait_ms", 1, kMaxSyncWaitMs)) {
    result.sync_wait = std::chrono::milliseconds(*wait);
  }
  if (auto summary = http.string("summary")) result.summary = *summary;
  if (http.has("unavailable")) result.unavailable = read_response(http, "unavailable");
  if (http.has("auth")) result.auth = read_route_auth(http);
  read_route_responses(http, result);
  read_path_params(http, result);
  read_extra_routes(http, result);
  if (auto id = http.string("operation_id")) {
    if (is_identifier(*id)) {
      result.operation_id = *id;
    } else {
      const std::string suggestion = as_identifier(*id);
      context.report(context.document.at_value(
          http.pointer("operation_id"),
          http.path("operation_id") +
              " must be an identifier (letters, digits and '_', not starting with a digit), got '" +
              *id + "'",
          suggestion.empty() ? "" : "try '" + suggestion + "'"));
    }
  }
  return result;
}

// `maximum: "${MAX_IMAGES_PER_REQUEST:-4}"` (quoted, as YAML wants inside { }): a value
// that was exactly one variable and reads as a number or boolean is one in the schema.
void type_variables(LoadContext& context, const std::string& pointer, json& value) {
  if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it)
      type_variables(context, child_pointer(pointer, it.key()), it.value());
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i)
      type_variables(context, child_pointer(pointer, i), value[i]);
  } else if (auto typed = context.typed_variable(pointer, value)) {
    value = std::move(*typed);
  }
}

}  // namespace

void read_trigger(Mapping& root, TriggerSpec& trigger) {
  Mapping block(root.context(), root.pointer("trigger"), kTriggerKeys);
  if (!block.valid()) return;
  trigger.http = read_http(block);
  if (trigger.http && trigger.http->mode == HttpTrigger::Mode::storage) {
    for (const auto& key : kJobTriggerKeys)
      if (block.has(key)) block.reject(key, "does not apply when mode is 'storage': it runs no job");
    for (const auto& key : kRenderTriggerKeys)
      if (block.has(key)) block.reject(key, "only applies when trigger.http.mode is 'template'");
    return;
  }
  const bool renders = trigger.renders_only();
  for (const auto& key : renders ? kJobTriggerKeys : kRenderTriggerKeys) {
    if (block.has(key)) {
      block.reject(key, renders ? "does not apply when mode is 'template': it runs no job"
                                : "only applies when trigger.http.mode is 'template'");
    }
  }
  if (renders) {
    read_response(block, trigger);
    return;
  }
  // The schemas are JSON Schema documents; the HTTP layer validates bodies against them.
  if (const json* schema = block.mapping("request_schema")) {
    trigger.request_schema = *schema;
    type_variables(block.context(), block.pointer("request_schema"), trigger.request_schema);
  }
  if (const json* schema = block.mapping("callback_schema")) trigger.callback_schema = *schema;
  read_schedules(block, trigger);
}

}  // namespace imagepipe::config
