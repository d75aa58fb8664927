// The OpenAPI 3.0 document of the daemon's triggers, as IBM watsonx Orchestrate imports
// tools: one server URL, an operationId and a description per operation, the request
// schema, the 202 acknowledgement, and for asynchronous triggers a `callbacks` entry keyed
// by {$request.header.callbackUrl} whose body schema is the callback payload. Template
// routes are operations answering 200 with their body's schema.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "imagepipe/pipeline.hpp"

namespace imagepipe::serve {

nlohmann::json openapi_document(const std::vector<const Pipeline*>& pipelines,
                                const std::string& server_url);

// A JSON Schema (draft 7) as an OpenAPI 3.0 Schema Object: `examples` → `example`,
// `const` → `enum`, type lists with "null" → `nullable`, numeric exclusive bounds →
// boolean ones, and keywords 3.0 does not know dropped.
nlohmann::json to_openapi_schema(const nlohmann::json& schema);

// "wxo-edit-b64" → "wxo_edit_b64": runs of non-word characters become one '_'.
std::string operation_id(const std::string& pipeline_name);
// The trigger's declared operation_id, else the one derived from the pipeline's name.
std::string operation_id(const Pipeline& pipeline);

// The callback body's schema: the trigger's callback_schema when written, otherwise one
// derived from the http-callback notifier's body template. Null when nothing is posted.
nlohmann::json callback_body_schema(const Pipeline& pipeline);

}  // namespace imagepipe::serve
