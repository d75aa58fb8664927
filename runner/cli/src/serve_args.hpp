// `imagepipe serve` and `imagepipe openapi`: their flags, and the config they share.
#pragma once

#include <string>
#include <vector>

#include "process.hpp"
#include "serve_config.hpp"

namespace imagepipe::runner {

struct ServeArgs {
  std::string config;  // YAML file; flags win over it
  std::string listen;
  std::string data;
  std::string queue;  // redis://host:port/db: a queue shared with other nodes
  std::string env_file;
  std::vector<std::string> pipelines;  // files or folders
  // Hidden, for end-to-end tests: the schedules' clock reads this UTC time at start
  // ("2026-01-01T01:59:59Z") and runs on from there, so a due time comes in seconds.
  std::string schedule_clock;
};

struct OpenapiArgs {
  ServeArgs serve;                 // where the pipelines come from, as for serve
  std::vector<std::string> names;  // only these pipelines (none: all)
  std::string server;              // servers[0].url
  std::string out_dir;             // one document per pipeline in DIR/<name>.json
};

// Embedded defaults, then the config file, then flags. Pipelines default to the shipped
// ones. Throws serve::ConfigError.
serve::ServeConfig load_serve_config(const ServeArgs& args);

int openapi_command(const OpenapiArgs& args, const serve::ServeConfig& config, Process& process);

}  // namespace imagepipe::runner
