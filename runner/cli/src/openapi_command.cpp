// `imagepipe openapi`: the OpenAPI document /openapi.json serves, without starting a server
// (to review it), or with --out one complete document per pipeline: watsonx Orchestrate
// imports a file per tool, as the seeds' tool folder holds them.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "commands.hpp"
#include "openapi.hpp"
#include "serve_auth_openapi.hpp"
#include "serve_args.hpp"
#include "serve_pipelines.hpp"

namespace imagepipe::runner {

using namespace imagepipe::serve;

namespace {

// DIR/<pipeline name>.json, each with its one path (and its callbacks when asynchronous).
nlohmann::json secured_document(const std::vector<const Pipeline*>& pipelines,
                                const std::string& server, const AuthConfig& auth) {
  auto document = openapi_document(pipelines, server);
  document_security(document, auth, pipelines);
  return document;
}

int write_tool_documents(const std::vector<const Pipeline*>& pipelines, const std::string& server,
                         const std::filesystem::path& dir, const AuthConfig& auth) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    std::cerr << "imagepipe: cannot create " << dir.string() << ": " << error.message() << "\n";
    return kExitRuntime;
  }
  for (const auto* pipeline : pipelines) {
    const auto file = dir / (pipeline->name + ".json");
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << secured_document({pipeline}, server, auth).dump(2) << "\n";
    out.close();
    if (!out) {
      std::cerr << "imagepipe: cannot write " << file.string() << "\n";
      return kExitRuntime;
    }
    std::cout << file.string() << "\n";  // what was written, for scripts
  }
  return kExitOk;
}

}  // namespace

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
        (args.names.empty() ||
        std::count(args.names.begin(), args.names.end(), served->pipeline->name)))
      chosen.push_back(served->pipeline.get());
  for (const auto& name : args.names) {
    if (set.find(name)) continue;
    std::string names;
    for (const auto& served : set.all)
      if (served->pipeline->trigger.http)
        names += (names.empty() ? "" : ", ") + served->pipeline->name;
    std::cerr << "imagepipe: no served pipeline is named '" << name
              << "' (pipelines with an HTTP trigger: " << (names.empty() ? "none" : names) << ")\n";
    return kExitInvalid;
  }
  std::string server = args.server.empty() ? config.public_url : args.server;
  if (server.empty()) {
    const std::string host =
        config.host == "0.0.0.0" || config.host == "::" ? "localhost" : config.host;
    server = "http://" + host + ":" + std::to_string(config.port);
  }
  AccessConfig access;
  try {
    access = read_access_config(config.access, env_lookup(load.env_overrides));
  } catch (const ConfigError& e) {
    std::cerr << "imagepipe: " << e.what() << "\n";
    return kExitInvalid;
  }
  if (args.out_dir.empty()) {
    std::cout << secured_document(chosen, server, access.auth).dump(2) << "\n";
    return kExitOk;
  }
  return write_tool_documents(chosen, server, args.out_dir, access.auth);
}

}  // namespace imagepipe::runner
