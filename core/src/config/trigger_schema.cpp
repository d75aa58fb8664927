// trigger: how a pipeline is started over HTTP (schedules: schedule_schema.cpp), and the
// JSON Schemas that document it.
#include <algorithm>

#include "config/pipeline_schema.hpp"
#include "config/suggest.hpp"

namespace imagepipe::config {

namespace {

using nlohmann::json;

const std::vector<std::string> kTriggerKeys = {"http", "request_schema", "callback_schema",
                                               "schedule"};
const std::vector<std::string> kHttpKeys = {"method",       "path",    "mode",       "callback_header",
                                            "sync_wait_ms", "summary", "unavailable"};
const std::vector<std::string> kResponseKeys = {"status", "body"};
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
  Mapping block(parent.context(), parent.pointer(key), kResponseKeys);
  ResponseSpec response;
  block.require("status");
  if (auto status = block.integer("status", 100, 599)) response.status = static_cast<int>(*status);
  if (const json* body = block.get("body")) {
    if (auto compiled = block.context().compile_template(block.pointer("body"), *body))
      response.body = std::move(*compiled);
  }
  return response;
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
  if (auto mode = http.choice("mode", {"async", "sync"})) {
    result.mode = *mode == "sync" ? HttpTrigger::Mode::sync : HttpTrigger::Mode::async;
  }
  if (auto header = http.string("callback_header")) result.callback_header = *header;
  if (auto wait = http.integer("sync_wait_ms", 1, kMaxSyncWaitMs)) {
    result.sync_wait = std::chrono::milliseconds(*wait);
  }
  if (auto summary = http.string("summary")) result.summary = *summary;
  if (http.has("unavailable")) result.unavailable = read_response(http, "unavailable");
  return result;
}

}  // namespace

void read_trigger(Mapping& root, TriggerSpec& trigger) {
  Mapping block(root.context(), root.pointer("trigger"), kTriggerKeys);
  if (!block.valid()) return;
  trigger.http = read_http(block);
  // The schemas are JSON Schema documents; the HTTP layer validates bodies against them.
  if (const json* schema = block.mapping("request_schema")) trigger.request_schema = *schema;
  if (const json* schema = block.mapping("callback_schema")) trigger.callback_schema = *schema;
  read_schedules(block, trigger);
}

}  // namespace imagepipe::config
