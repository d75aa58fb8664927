#include "serve_pipelines.hpp"

#include <algorithm>
#include <set>

#include "imagepipe/logging.hpp"
#include "openapi.hpp"

namespace imagepipe::serve {

namespace fs = std::filesystem;

namespace {
bool is_yaml(const fs::path& p) { return p.extension() == ".yaml" || p.extension() == ".yml"; }
// The daemon's own routes, which a pipeline must not shadow: "/health" for "/health", ""
// when the path is free.
std::string daemon_route(const std::string& path) {
  for (const char* exact : {"/health", "/health/", "/health/live", "/health/ready", "/metrics",
                            "/openapi.json", "/providers", "/docs", "/docs/"})
    if (path == exact) return exact;
  for (const std::string prefix : {"/jobs/", "/files/", "/ui/"})
    if (path.rfind(prefix, 0) == 0 || path + "/" == prefix) return prefix + "...";
  return {};
}
}  // namespace

std::vector<fs::path> pipeline_files(const std::vector<fs::path>& paths) {
  std::vector<fs::path> files;
  for (const auto& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<fs::path> found;
      for (const auto& entry : fs::recursive_directory_iterator(path, ec))
        if (entry.is_regular_file() && is_yaml(entry.path())) found.push_back(entry.path());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(path, ec)) {
      files.push_back(path);
    } else {
      throw ConfigError("pipeline path " + path.string() + " does not exist");
    }
  }
  return files;
}

PipelineSet load_pipeline_set(const std::vector<fs::path>& files, const PluginRegistry& registry,
                              const LoadOptions& load, const ServeConfig& config,
                              const Host* host) {
  PipelineSet set;
  std::map<std::pair<std::string, std::string>, std::string> routes;  // (method, path) → pipeline
  std::map<std::string, std::string> operations;                      // operationId → pipeline
  for (const auto& file : files) {
    Pipeline pipeline = load_pipeline(file, registry, load);
    // Run-only pipelines have nothing to serve; schedule-only ones have no route.
    if (!pipeline.trigger.http && pipeline.trigger.schedules.empty()) continue;
    if (const auto& http = pipeline.trigger.http) {
      std::vector<std::pair<std::string, std::string>> claimed{{http->method, http->path}};
      if (http->batch) claimed.emplace_back("POST", http->batch->path);
      if (http->catalogue) claimed.emplace_back("GET", http->catalogue->path);
      for (const auto& [method, path] : claimed) {
        if (const auto owner = daemon_route(path); !owner.empty())
          throw ConfigError(file.string() + ": route " + method + " " + path +
                            " would hide the daemon's own " + owner +
                            "; choose another path for pipeline '" + pipeline.name + "'");
        if (auto [it, fresh] = routes.emplace(std::pair(method, path), pipeline.name); !fresh)
          throw ConfigError(file.string() + ": route " + method + " " + path +
                            " is already served by pipeline '" + it->second + "'");
      }
    }
    if (set.by_name.count(pipeline.name))
      throw ConfigError(file.string() + ": pipeline name '" + pipeline.name + "' is used twice");
    // Orchestrate names each imported tool by its operationId; two alike would clash there.
    const std::string operation = operation_id(pipeline);
    if (auto [it, fresh] = operations.emplace(operation, pipeline.name); !fresh)
      throw ConfigError(file.string() + ": operation_id '" + operation +
                        "' is already used by pipeline '" + it->second +
                        "'; each served pipeline needs its own (set trigger.http.operation_id)");
    if (config.max_image_pixels)
      pipeline.limits.max_image_pixels =
          std::min(pipeline.limits.max_image_pixels, config.max_image_pixels);
    if (config.max_batch_items) {
      pipeline.limits.max_items = std::min(pipeline.limits.max_items, config.max_batch_items);
      pipeline.source.max_items = std::min(pipeline.source.max_items, config.max_batch_items);
    }
    for (const auto& secret : pipeline.secrets) register_secret(secret);

    auto served = std::make_unique<ServedPipeline>();
    served->unavailable = unavailable_reason(pipeline);
    served->pipeline = std::make_shared<const Pipeline>(std::move(pipeline));
    if (host && served->unavailable.empty() && !served->pipeline->trigger.runs_no_job()) {
      try {
        served->engine = std::make_unique<Engine>(served->pipeline, *host);
      } catch (const std::exception& e) {
        throw ConfigError(file.string() + ": " + redact_secrets(e.what()));
      }
    }
    set.by_name[served->pipeline->name] = served.get();
    set.all.push_back(std::move(served));
  }
  return set;
}

}  // namespace imagepipe::serve
