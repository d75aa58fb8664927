// trigger.http.mode: template: a route that answers a rendered body and runs no job (a
// configuration view, a catalogue). Such a pipeline has a trigger and nothing else; its
// body may use environment variables, read when the file loads, and nothing that only a
// job would know.
#include "config/pipeline_schema.hpp"

namespace imagepipe::config {

namespace {

using nlohmann::json;

const std::vector<std::string> kTemplateResponseKeys = {"body"};
// Every top-level key that describes a job.
const std::vector<std::string> kJobKeys = {"prompt",   "source",      "provider", "transforms", "steps",
                                           "sink",     "notifier",    "concurrency", "limits", "guard"};

// The first runtime placeholder of a string, "${job.id}"; empty when there is none.
std::string runtime_placeholder(const std::string& text) {
  if (text.find("${") == std::string::npos) return {};
  try {
    for (const TemplatePiece& piece : split_template(text)) {
      if (piece.kind == TemplatePiece::Kind::placeholder)
        return text.substr(piece.offset, piece.length);
    }
  } catch (const TemplateError&) {
    // Reported by the environment pass, where the column is known.
  }
  return {};
}

// Environment placeholders are gone by now; whatever placeholder is left needs a job.
void reject_runtime_values(LoadContext& context, const json& value, const std::string& pointer) {
  if (value.is_object()) {
    for (const auto& [key, child] : value.items())
      reject_runtime_values(context, child, child_pointer(pointer, key));
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i)
      reject_runtime_values(context, value[i], child_pointer(pointer, i));
  } else if (value.is_string()) {
    const std::string placeholder = runtime_placeholder(value.get<std::string>());
    if (placeholder.empty()) return;
    context.report(context.document.at_value(
        pointer,
        context.document.describe(pointer) + ": '" + placeholder +
            "' has no value in a template route, which runs no job",
        "only environment variables (${NAME}, ${NAME:-default}) are expanded here"));
  }
}

}  // namespace

void read_response(Mapping& trigger, TriggerSpec& spec) {
  LoadContext& context = trigger.context();
  trigger.require("response", "when mode is 'template'");
  Mapping response(context, trigger.pointer("response"), kTemplateResponseKeys);
  if (!response.valid()) return;
  response.require("body");
  if (const json* body = response.get("body")) {
    const std::string pointer = response.pointer("body");
    const std::size_t before = context.diagnostics.size();
    reject_runtime_values(context, *body, pointer);
    if (context.diagnostics.size() == before) {
      if (auto compiled = context.compile_template(pointer, *body)) spec.response_body = *compiled;
    }
  }
  if (const json* schema = trigger.mapping("response_schema")) spec.response_schema = *schema;
}

void reject_job_sections(Mapping& root, const HttpTrigger& http) {
  const bool storage = http.mode == HttpTrigger::Mode::storage;
  for (const auto& key : kJobKeys) {
    if (!root.has(key)) continue;
    if (storage)
      root.reject(key, "does not apply to a storage route (trigger.http.mode: storage)",
                  "a storage route answers from trigger.http.storage and runs no job");
    else
      root.reject(key, "does not apply to a template route (trigger.http.mode: template)",
                  "a template route answers trigger.response.body and runs no job");
  }
}

}  // namespace imagepipe::config
