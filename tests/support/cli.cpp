#include "support/cli.hpp"

#include <map>

namespace imagepipe::testing {

std::string imagepipe_binary() { return std::string(IMAGEPIPE_BINARY_DIR) + "/bin/imagepipe"; }

CliResult run_cli(const std::vector<std::string>& args, const std::string& cwd,
                  const std::vector<std::string>& env) {
  std::vector<std::string> argv{imagepipe_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::map<std::string, std::string> vars;
  for (const auto& entry : env) {
    const auto eq = entry.find('=');
    vars[entry.substr(0, eq)] = eq == std::string::npos ? "" : entry.substr(eq + 1);
  }
  return run_program(argv, "", vars, cwd);
}

}  // namespace imagepipe::testing
