// Runs the built `imagepipe` binary and captures exit code, stdout and stderr.
#pragma once

#include <string>
#include <vector>

#include "support/processes.hpp"

namespace imagepipe::testing {

using CliResult = ProgramResult;

// Arguments are passed as-is (no shell). `cwd` empty: the test's working directory.
// `env`: "NAME=value" entries added to the environment.
CliResult run_cli(const std::vector<std::string>& args, const std::string& cwd = {},
                  const std::vector<std::string>& env = {});
std::string imagepipe_binary();

}  // namespace imagepipe::testing
