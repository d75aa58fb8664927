// `imagepipe openapi`: the OpenAPI document /openapi.json serves, without starting a server
// (to import the tools into watsonx Orchestrate, or to review them).
#include <unistd.h>

#include <iostream>

#include "commands.hpp"
#include "openapi.hpp"
#include "serve_command.hpp"
#include "serve_pipelines.hpp"

namespace imagepipe::runner {

using namespace imagepipe::serve;

int openapi_command(const OpenapiArgs& args, const ServeConfig& config, Process& process) {
  LoadOptions load;
  load.env_overrides = load_env_file(config.env_file);
  load.allow_missing_env = true;  // documenting a tool needs no API key
  PipelineSet set;
  try {
    set = load_pipeline_set(pipeline_files(config.pipelines), process.registry(), load, config,
                            nullptr);
  } catch (const PipelineError& e) {
    std::cerr << e.format(::isatty(STDERR_FILENO)) << "\n";
    return kExitInvalid;
  } catch (const ConfigError& e) {
    std::cerr << "imagepipe: " << e.what() << "\n";
    return kExitInvalid;
  }

  std::vector<const Pipeline*> chosen;
  for (const auto& served : set.all)
    if (served->pipeline->trigger.http &&  // schedule-only pipelines have no operation
        (args.pipeline.empty() || served->pipeline->name == args.pipeline))
      chosen.push_back(served->pipeline.get());
  if (!args.pipeline.empty() && chosen.empty()) {
    std::string names;
    for (const auto& served : set.all)
      if (served->pipeline->trigger.http)
        names += (names.empty() ? "" : ", ") + served->pipeline->name;
    std::cerr << "imagepipe: no served pipeline is named '" << args.pipeline
              << "' (pipelines with an HTTP trigger: " << (names.empty() ? "none" : names) << ")\n";
    return kExitInvalid;
  }
  std::string server = args.server.empty() ? config.public_url : args.server;
  if (server.empty()) {
    const std::string host =
        config.host == "0.0.0.0" || config.host == "::" ? "localhost" : config.host;
    server = "http://" + host + ":" + std::to_string(config.port);
  }
  std::cout << openapi_document(chosen, server).dump(2) << "\n";
  return kExitOk;
}

}  // namespace imagepipe::runner
