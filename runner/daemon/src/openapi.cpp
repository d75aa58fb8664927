#include "openapi.hpp"

#include <set>

#include "imagepipe/template.hpp"

namespace imagepipe::serve {

using nlohmann::json;

namespace {

const std::set<std::string> kSchemaKeywords = {"title",         "multipleOf",
                                               "maximum",       "exclusiveMaximum",
                                               "minimum",       "exclusiveMinimum",
                                               "maxLength",     "minLength",
                                               "pattern",       "maxItems",
                                               "minItems",      "uniqueItems",
                                               "maxProperties", "minProperties",
                                               "required",      "enum",
                                               "type",          "allOf",
                                               "oneOf",         "anyOf",
                                               "not",           "items",
                                               "properties",    "additionalProperties",
                                               "description",   "format",
                                               "default",       "nullable",
                                               "readOnly",      "writeOnly",
                                               "example",       "deprecated"};

json accepted_schema() {
  return {{"type", "object"},
          {"required", {"accepted", "job_id"}},
          {"properties",
           {{"accepted", {{"type", "boolean"}, {"example", true}}},
            {"job_id",
             {{"type", "string"},
              {"format", "uuid"},
              {"description", "Also the callback's Idempotency-Key"}}},
            {"status_url",
             {{"type", "string"}, {"description", "GET it for the job's status and results"}}}}}};
}

json error_schema() {
  return {{"type", "object"},
          {"required", {"error"}},
          {"properties", {{"error", {{"type", "string"}}}}}};
}

json validation_error_schema() {
  return {{"type", "object"},
          {"required", {"error", "detail"}},
          {"properties",
           {{"error", {{"type", "string"}, {"description", "Every problem on one line"}}},
            {"detail",
             {{"type", "array"},
              {"items",
               {{"type", "object"},
                {"required", {"loc", "msg", "type"}},
                {"properties",
                 {{"loc",
                   {{"type", "array"},
                    {"items", {{"type", "string"}}},
                    {"description", "Where: [\"body\", field] or [\"header\", name]"}}},
                  {"msg", {{"type", "string"}}},
                  {"type", {{"type", "string"}}}}}}}}}}}};
}

json job_summary_schema() {
  return {{"type", "object"},
          {"description", "The job's summary, as GET /jobs/{id} shows it"},
          {"required", {"job_id", "status"}},
          {"properties",
           {{"job_id", {{"type", "string"}}},
            {"pipeline", {{"type", "string"}}},
            {"status",
             {{"type", "string"}, {"enum", {"completed", "completed_with_errors", "failed"}}}},
            {"error", {{"type", "string"}}},
            {"metrics", {{"type", "object"}}},
            {"items", {{"type", "array"}, {"items", {{"type", "object"}}}}}}}};
}

json ref(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }

json json_content(const json& schema) { return {{"application/json", {{"schema", schema}}}}; }

// What a template value will render to, as a schema: a single placeholder keeps the
// value's own type, which only the running job knows.
json schema_of_template(const json& value) {
  if (value.is_object()) {
    json properties = json::object();
    for (const auto& [k, v] : value.items()) properties[k] = schema_of_template(v);
    return {{"type", "object"}, {"properties", properties}};
  }
  if (value.is_array()) return {{"type", "array"}, {"items", json::object()}};
  if (value.is_boolean()) return {{"type", "boolean"}};
  if (value.is_number_integer()) return {{"type", "integer"}};
  if (value.is_number()) return {{"type", "number"}};
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    try {
      const auto pieces = split_template(text);
      if (pieces.size() == 1 && pieces[0].kind == TemplatePiece::Kind::placeholder)
        return {{"description", "${" + pieces[0].text + "}"}};
    } catch (const TemplateError&) {
    }
    return {{"type", "string"}};
  }
  return json::object();
}

const PluginUse* http_callback(const Pipeline& pipeline) {
  for (const auto& n : pipeline.notifiers)
    if (n.use == "http-callback") return &n;
  return nullptr;
}

json operation_head(const Pipeline& p) {
  const auto& http = *p.trigger.http;
  std::string description =
      p.description.empty() ? (http.summary.empty() ? p.name : http.summary) : p.description;
  json op = {
      {"operationId", operation_id(p)}, {"description", description}, {"tags", {"pipelines"}}};
  if (!http.summary.empty()) op["summary"] = http.summary;
  return op;
}

// A template route answers its rendered body, or 503 when a variable it needs is unset.
json render_operation(const Pipeline& p) {
  json op = operation_head(p);
  const json schema = p.trigger.response_schema.is_null()
                          ? schema_of_template(p.trigger.response_body.raw())
                          : to_openapi_schema(p.trigger.response_schema);
  op["responses"] = {
      {"200", {{"description", "The route's answer"}, {"content", json_content(schema)}}},
      {"503",
       {{"description", "A variable the answer needs is not set"},
        {"content", json_content(ref("Error"))}}}};
  return op;
}

json path_parameters(const HttpTrigger& http) {
  json parameters = json::array();
  for (const auto& [name, schema] : http.path_params)
    parameters.push_back({{"in", "path"},
                          {"name", name},
                          {"required", true},
                          {"schema", to_openapi_schema(schema)}});
  return parameters;
}

// A storage route: the object's metadata, its bytes, or its removal.
json storage_operation(const Pipeline& p) {
  const auto& http = *p.trigger.http;
  json op = operation_head(p);
  if (json parameters = path_parameters(http); !parameters.empty()) op["parameters"] = parameters;
  json responses = json::object();
  switch (http.storage ? http.storage->action : StorageRoute::Action::info) {
    case StorageRoute::Action::info:
      responses["200"] = {{"description", "The stored object's metadata"},
                          {"content", json_content({{"type", "object"}})}};
      break;
    case StorageRoute::Action::download:
      responses["200"] = {{"description", "The stored bytes"},
                          {"content", {{"application/octet-stream",
                                        {{"schema", {{"type", "string"}, {"format", "binary"}}}}}}}};
      responses["206"] = {{"description", "The requested byte range"}};
      responses["416"] = {{"description", "The range is outside the object"},
                          {"content", json_content(ref("Error"))}};
      break;
    case StorageRoute::Action::remove:
      responses["200"] = {{"description", "The object was deleted"},
                          {"content", json_content({{"type", "object"}})}};
      break;
  }
  responses["404"] = {{"description", "No such object"}, {"content", json_content(ref("Error"))}};
  responses["422"] = {{"description", "A path parameter is invalid"},
                      {"content", json_content(ref("ValidationError"))}};
  op["responses"] = responses;
  return op;
}

// The body fields a request source reads, marked so a generated form (the dashboard's) can
// offer a file input for the image and fill the file name from it. OpenAPI's own
// `format: byte` would say base64 only, and the field also takes data: URLs.
void mark_image_fields(const Pipeline& p, json& schema) {
  if (p.source.from != SourceSpec::From::request || !schema.contains("properties")) return;
  auto& properties = schema["properties"];
  if (properties.contains(p.source.field) && properties[p.source.field].is_object())
    properties[p.source.field]["x-imagepipe-image"] = "base64";
  if (!p.source.filename_field.empty() && properties.contains(p.source.filename_field) &&
      properties[p.source.filename_field].is_object())
    properties[p.source.filename_field]["x-imagepipe-filename"] = true;
}

json operation(const Pipeline& p) {
  const auto& http = *p.trigger.http;
  if (http.mode == HttpTrigger::Mode::render) return render_operation(p);
  if (http.mode == HttpTrigger::Mode::storage) return storage_operation(p);
  const bool async = http.mode == HttpTrigger::Mode::async;
  json op = operation_head(p);

  json parameters = path_parameters(http);
  if (async && !http.callback_header.empty())
    parameters.push_back(
        {{"in", "header"},
         {"name", http.callback_header},
         {"required", true},
         {"description", "URL that receives the job's result (POST, JSON) when it ends"},
         {"schema", {{"type", "string"}}}});
  if (!parameters.empty()) op["parameters"] = parameters;

  if (http.method != "GET" && http.method != "DELETE") {
    json schema = p.trigger.request_schema.is_null() ? json{{"type", "object"}}
                                                     : to_openapi_schema(p.trigger.request_schema);
    mark_image_fields(p, schema);
    op["requestBody"] = {{"required", true}, {"content", json_content(schema)}};
  }

  json responses = json::object();
  if (async) {
    responses["202"] = {
        {"description", "Job accepted and stored; the result follows as a callback"},
        {"content", json_content(ref("Accepted"))}};
  } else {
    // A declared completed answer replaces the summary: its status, and the shape of its
    // body template.
    const auto& completed = http.responses.completed;
    const std::string status = std::to_string(completed ? completed->status.value_or(200) : 200);
    const json body = completed && completed->body ? schema_of_template(completed->body->raw())
                                                   : ref("JobSummary");
    responses[status] = {{"description", "The job ended within the trigger's wait"},
                         {"content", json_content(body)}};
    responses["202"] = {{"description", "The job is still running; poll status_url"},
                        {"content", json_content(ref("Accepted"))}};
    const auto& failed = http.responses.failed;
    const Template* failure = failed && failed->body ? &*failed->body
                              : http.responses.error ? &*http.responses.error
                                                     : nullptr;
    responses["default"] = {
        {"description", "The job failed: the status follows its error class (422, 402, 429, 502, 503, 504...)"},
        {"content", json_content(failure ? schema_of_template(failure->raw()) : ref("Error"))}};
  }
  responses["413"] = {{"description", "Request body over the size limit"},
                      {"content", json_content(ref("Error"))}};
  responses["422"] = {{"description", "A field or header is missing or invalid"},
                      {"content", json_content(ref("ValidationError"))}};
  responses["503"] = {
      {"description", "The pipeline cannot run (configuration) or the job store is unavailable"},
      {"content", json_content(ref("Error"))}};
  op["responses"] = responses;

  const json callback = callback_body_schema(p);
  if (async && !http.callback_header.empty() && !callback.is_null()) {
    op["callbacks"] = {
        {"jobResult",
         {{"{$request.header." + http.callback_header + "}",
           {{"post",
             {{"description",
               "The job's result, sent once it ends (retried until the receiver answers 2xx)"},
              {"parameters",
               {{{"in", "header"},
                 {"name", "Idempotency-Key"},
                 {"required", true},
                 {"description", "The job id: the same on every attempt"},
                 {"schema", {{"type", "string"}}}}}},
              {"requestBody", {{"required", true}, {"content", json_content(callback)}}},
              {"responses", {{"200", {{"description", "Callback received"}}}}}}}}}}}};
  }
  return op;
}

// trigger.http.batch: an array of the route's bodies; answered with the array of their
// answers (sync) or their job ids (async).
json batch_operation(const Pipeline& p, json single) {
  const auto& http = *p.trigger.http;
  json op = operation_head(p);
  op["operationId"] = op["operationId"].get<std::string>() + "Batch";
  op["summary"] = (http.summary.empty() ? p.name : http.summary) + " (a batch, run at once)";
  json element = p.trigger.request_schema.is_null() ? json{{"type", "object"}}
                                                    : to_openapi_schema(p.trigger.request_schema);
  op["requestBody"] = {
      {"required", true},
      {"content", json_content({{"type", "array"},
                                {"minItems", 1},
                                {"maxItems", http.batch->max_items},
                                {"items", std::move(element)}})}};
  json responses = json::object();
  if (http.mode == HttpTrigger::Mode::sync) {
    const auto& declared = single["responses"];
    json each = json::object();
    for (auto it = declared.begin(); it != declared.end(); ++it)
      if (it.key().size() == 3 && it.key()[0] == '2' && it.key() != "202") {
        each = it.value()["content"]["application/json"]["schema"];
        break;
      }
    responses["200"] = {{"description", "Each request's own answer, in order"},
                        {"content", json_content({{"type", "array"}, {"items", each}})}};
  } else {
    responses["202"] = {
        {"description", "Every job accepted and stored"},
        {"content",
         json_content({{"type", "object"},
                       {"properties",
                        {{"accepted", {{"type", "boolean"}}},
                         {"job_ids", {{"type", "array"}, {"items", {{"type", "string"}}}}}}}})}};
  }
  responses["422"] = {{"description", "A request of the batch is invalid (its index in loc); none ran"},
                      {"content", json_content(ref("ValidationError"))}};
  op["responses"] = std::move(responses);
  return op;
}

// trigger.http.catalogue: a step's alternatives and what each accepts.
json catalogue_operation(const Pipeline& p) {
  const auto& catalogue = *p.trigger.http->catalogue;
  json op = operation_head(p);
  op["operationId"] = op["operationId"].get<std::string>() + "Catalogue";
  op["summary"] = "The choices of step '" + catalogue.step + "' and what each accepts";
  json entry = {{"type", "object"},
                {"properties",
                 {{"id", {{"type", "string"}}},
                  {"supported_sizes", {{"type", "array"}, {"items", {{"type", "string"}}}}},
                  {"max_images", {{"type", "integer"}}},
                  {"provider", {{"type", "string"}}},
                  {"skipped", {{"type", "array"}, {"items", {{"type", "string"}}}}}}}};
  json properties = {{catalogue.list_key, {{"type", "array"}, {"items", std::move(entry)}}}};
  if (!catalogue.default_key.empty()) properties[catalogue.default_key] = {{"type", "string"}};
  op["responses"] = {
      {"200",
       {{"description", "The enabled choices"},
        {"content", json_content({{"type", "object"}, {"properties", std::move(properties)}})}}}};
  return op;
}

}  // namespace

std::string operation_id(const std::string& pipeline_name) {
  std::string out;
  for (unsigned char c : pipeline_name) {
    if (std::isalnum(c))
      out += static_cast<char>(c);
    else if (out.empty() || out.back() != '_')
      out += '_';
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out.empty() ? "pipeline" : out;
}

std::string operation_id(const Pipeline& pipeline) {
  const auto& http = pipeline.trigger.http;
  return http && !http->operation_id.empty() ? http->operation_id : operation_id(pipeline.name);
}

json to_openapi_schema(const json& schema) {
  if (!schema.is_object()) return schema;
  json out = json::object();
  for (const auto& [key, value] : schema.items()) {
    if (key == "examples") {
      if (value.is_array() && !value.empty()) out["example"] = value.front();
    } else if (key == "const") {
      out["enum"] = json::array({value});
    } else if (key == "type" && value.is_array()) {
      json types = json::array();
      for (const auto& t : value) {
        if (t == "null")
          out["nullable"] = true;
        else
          types.push_back(t);
      }
      if (types.size() == 1) out["type"] = types.front();
    } else if ((key == "exclusiveMinimum" || key == "exclusiveMaximum") && value.is_number()) {
      out[key == "exclusiveMinimum" ? "minimum" : "maximum"] = value;
      out[key] = true;
    } else if (key == "properties" && value.is_object()) {
      json properties = json::object();
      for (const auto& [name, sub] : value.items()) properties[name] = to_openapi_schema(sub);
      out[key] = std::move(properties);
    } else if ((key == "items" || key == "additionalProperties" || key == "not") &&
               value.is_object()) {
      out[key] = to_openapi_schema(value);
    } else if ((key == "allOf" || key == "anyOf" || key == "oneOf") && value.is_array()) {
      json list = json::array();
      for (const auto& sub : value) list.push_back(to_openapi_schema(sub));
      out[key] = std::move(list);
    } else if (kSchemaKeywords.count(key) || key.rfind("x-", 0) == 0) {
      out[key] = value;
    }
  }
  return out;
}

json callback_body_schema(const Pipeline& pipeline) {
  if (!pipeline.trigger.callback_schema.is_null())
    return to_openapi_schema(pipeline.trigger.callback_schema);
  const auto* notifier = http_callback(pipeline);
  if (!notifier) return nullptr;
  if (auto body = notifier->with.find("body"); body != notifier->with.end())
    return schema_of_template(*body);
  return {{"type", "object"},
          {"properties",
           {{"job_id", {{"type", "string"}}},
            {"status", {{"type", "string"}}},
            {"error", {{"type", "string"}}},
            {"metrics", {{"type", "object"}}},
            {"items", {{"type", "array"}, {"items", {{"type", "object"}}}}}}}};
}

json openapi_document(const std::vector<const Pipeline*>& pipelines,
                      const std::string& server_url) {
  json paths = json::object();
  for (const auto* p : pipelines) {
    if (!p->trigger.http) continue;
    std::string method = p->trigger.http->method;
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    paths[p->trigger.http->path][method] = operation(*p);
    if (const auto& batch = p->trigger.http->batch)
      paths[batch->path]["post"] = batch_operation(*p, paths[p->trigger.http->path][method]);
    if (const auto& catalogue = p->trigger.http->catalogue)
      paths[catalogue->path]["get"] = catalogue_operation(*p);
  }
  return {{"openapi", "3.0.3"},
          {"info",
           {{"title", "imagepipe"},
            {"version", IMAGEPIPE_VERSION},
            {"description",
             "Image pipelines served over HTTP. Asynchronous operations answer 202 at once and "
             "POST the result to the callback URL given in their header."}}},
          {"servers", {{{"url", server_url}}}},
          {"paths", paths},
          {"components",
           {{"schemas",
             {{"Accepted", accepted_schema()},
              {"Error", error_schema()},
              {"ValidationError", validation_error_schema()},
              {"JobSummary", job_summary_schema()}}}}}};
}

}  // namespace imagepipe::serve
