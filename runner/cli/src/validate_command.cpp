// `imagepipe validate`: lint pipelines like a compiler, without running anything.
#include <unistd.h>

#include <iostream>

#include "commands.hpp"
#include "imagepipe/pipeline.hpp"

namespace imagepipe::runner {

int validate_command(const ValidateArgs& args, Process& process) {
  LoadOptions load;
  try {
    load.env_overrides = load_env_file(args.env_file);
  } catch (const std::exception& e) {
    std::cerr << "imagepipe: " << e.what() << "\n";
    return kExitInvalid;
  }
  // An unset variable is a deployment matter, not a pipeline error: report it unless --strict-env.
  load.allow_missing_env = !args.strict_env;
  const bool color = ::isatty(STDERR_FILENO);
  int invalid = 0;
  for (const auto& file : args.files) {
    try {
      auto pipeline = load_pipeline(file, process.registry(), load);
      std::cout << file << ": ok (" << pipeline.name << ")";
      for (const auto& unmet : pipeline.unmet_requirements) std::cout << "; requires: " << unmet;
      for (const auto& step : pipeline.steps)
        for (const auto& action : step.alternatives)
          for (std::size_t e = 0; e < action.providers.size(); ++e)
            if (action.providers[e].optional)
              std::cout << "; " << step.name << (action.name.empty() ? "" : "." + action.name)
                        << "[" << e << "] " << action.providers[e].plugin.use
                        << " is optional (skipped while its keys are empty)";
      if (!pipeline.missing_env.empty()) {
        std::cout << "; needs";
        for (const auto& name : pipeline.missing_env) std::cout << ' ' << name;
        std::cout << " at run time";
      }
      std::cout << "\n";
    } catch (const PipelineError& e) {
      ++invalid;
      std::cerr << e.format(color) << "\n";
    } catch (const std::exception& e) {
      ++invalid;
      std::cerr << file << ": error: " << e.what() << "\n";
    }
  }
  if (args.files.size() > 1)
    std::cout << args.files.size() - invalid << " of " << args.files.size() << " pipeline(s) valid\n";
  return invalid ? kExitInvalid : kExitOk;
}

}  // namespace imagepipe::runner
