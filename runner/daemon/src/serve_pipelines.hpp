// The pipelines a daemon serves: loaded once at start, each with its engine (built when
// the pipeline can run) and its HTTP route or schedules.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "imagepipe/engine.hpp"
#include "serve_config.hpp"

namespace imagepipe::serve {

struct ServedPipeline {
  std::shared_ptr<const Pipeline> pipeline;
  std::unique_ptr<Engine> engine;  // null when the pipeline cannot run
  std::string unavailable;         // why it cannot run ("OPENAI_API_KEY is not set")

  // Whether its route answers: a job route needs its engine, a template or storage route
  // only its variables.
  bool ready() const {
    return engine != nullptr || (pipeline->trigger.runs_no_job() && unavailable.empty());
  }
};

struct PipelineSet {
  std::vector<std::unique_ptr<ServedPipeline>> all;  // in file order
  std::map<std::string, ServedPipeline*> by_name;

  const ServedPipeline* find(const std::string& name) const {
    auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : it->second;
  }
};

// Every *.yaml / *.yml under each path (folders recursively, sorted). Throws ConfigError
// for a missing path, and PipelineError for a pipeline with mistakes.
std::vector<std::filesystem::path> pipeline_files(const std::vector<std::filesystem::path>& paths);

// Loads the pipelines that have an HTTP or a schedule trigger, applies the daemon's limits,
// and checks that no two claim the same method and path or the same OpenAPI operationId.
// Engines are built only when `host` is given, and never for template routes, which run no job.
PipelineSet load_pipeline_set(const std::vector<std::filesystem::path>& files,
                              const PluginRegistry& registry, const LoadOptions& load,
                              const ServeConfig& config, const Host* host);

}  // namespace imagepipe::serve
