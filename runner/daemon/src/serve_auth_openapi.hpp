// The daemon's authentication in its OpenAPI document: `components.securitySchemes` for
// what the serve config accepts (API keys in a header or as bearer, OIDC tokens), and per
// operation the `security` alternatives (`[]` for anonymous routes and exempt paths) with
// the 401 and 403 answers. Clients and tool importers (watsonx Orchestrate) read these to
// know which credential to send.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "imagepipe/pipeline.hpp"
#include "serve_auth_config.hpp"

namespace imagepipe::serve {

void document_security(nlohmann::json& document, const AuthConfig& auth,
                       const std::vector<const Pipeline*>& pipelines);

}  // namespace imagepipe::serve
