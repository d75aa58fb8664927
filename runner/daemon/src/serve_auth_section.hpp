// The serve config's `auth:` and `cors:` sections as they were read, with their marks.
// They are typed later (serve_auth_config.hpp), once the .env file is loaded, so that
// `enabled: ${ENABLE_AUTHENTICATION:-false}` and `api_keys_env: API_KEYS` can name
// variables a deployment keeps there, and errors still point at file:line.
#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>

namespace imagepipe::serve {

struct AccessSection {
  std::filesystem::path file;  // the config file they came from
  YAML::Node auth;             // undefined: no `auth:` section
  YAML::Node cors;             // undefined: no `cors:` section
};

}  // namespace imagepipe::serve
