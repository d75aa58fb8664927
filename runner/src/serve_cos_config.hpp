// GET /cos/config: the object storage settings of the watsonx Orchestrate tools, as the
// seeds' service showed them (to check a deployment), never with the access keys.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace imagepipe::serve {

// Values come from `env` first, then the process environment, with the defaults the
// pipelines in pipelines/wxo/ use.
nlohmann::json cos_config(const std::map<std::string, std::string>& env);

}  // namespace imagepipe::serve
