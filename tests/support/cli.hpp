// Runs the built `imagepipe` binary and captures exit code, stdout and stderr.
#pragma once

#include <string>
#include <vector>

namespace imagepipe::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Arguments are passed as-is (no shell). `cwd` empty: the test's working directory.
CliResult run_cli(const std::vector<std::string>& args, const std::string& cwd = {},
                  const std::vector<std::string>& env = {});
std::string imagepipe_binary();

}  // namespace imagepipe::testing
