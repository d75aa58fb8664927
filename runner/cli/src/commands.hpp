// The runner's subcommands. Each returns the process exit code (see process.hpp).
#pragma once

#include <string>
#include <vector>

#include "process.hpp"

namespace imagepipe::runner {

struct RunArgs {
  std::string pipeline;
  std::vector<std::string> inputs;
  std::string prompt;
  bool prompt_given = false;
  std::vector<std::string> sets;     // KEY=VALUE into the request body
  std::vector<std::string> headers;  // NAME=VALUE into the request headers
  std::string out_dir;
  std::string env_file;
  bool json = false;
  bool quiet = false;
};
int run_command(const RunArgs& args, Process& process);

struct ValidateArgs {
  std::vector<std::string> files;
  std::string env_file;
  bool strict_env = false;  // fail on unset environment variables too
};
int validate_command(const ValidateArgs& args, Process& process);

struct PluginsArgs {
  std::string action;  // list | describe | docs
  std::string name;    // describe: "resize" or "transform/resize"
  bool json = false;
};
int plugins_command(const PluginsArgs& args, Process& process);

}  // namespace imagepipe::runner
