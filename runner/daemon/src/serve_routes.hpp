// The daemon's routes: the pipelines' triggers (job routes and template routes) plus the
// operational ones (/health, /health/live, /health/ready, /metrics, /jobs...,
// /files/..., /providers, /openapi.json) and the dashboard (/ui, /docs; `/` leads there
// unless a trigger has it). Unknown paths get 404 and known paths with
// another method 405, both as JSON.
#pragma once

#include <atomic>
#include <map>
#include <string>

#include "process_metrics.hpp"
#include "serve_auth.hpp"
#include "serve_files.hpp"
#include "serve_jobs_api.hpp"
#include "serve_path_match.hpp"
#include "serve_scheduler.hpp"
#include "serve_thumbnails.hpp"
#include "serve_trigger.hpp"
#include "serve_ui.hpp"

namespace imagepipe::serve {

struct RouterContext {
  const PipelineSet& pipelines;
  TriggerContext& trigger;
  Metrics& metrics;
  std::string public_url;  // empty: http://<Host header>
  std::atomic<bool>& shutting_down;
  const Host& host;  // for the storage behind /files/ links
  const Scheduler* scheduler = nullptr;  // for the schedules in /health/ready
  AccessGate* access = nullptr;          // authentication and CORS; null: none
  ProcessMetrics* process_metrics = nullptr;  // process_* families, read at each scrape
  JobsApiHooks jobs{};                        // cancel and callback retry reach these
};

class Router {
 public:
  explicit Router(RouterContext context);
  Task<Response> handle(Request& request);

 private:
  using RouteFn = std::function<Task<Response>(Request&)>;
  void add(const std::string& method, const std::string& path, RouteFn fn);

  Task<Response> health_ready();
  Task<Response> metrics();
  Response openapi(const Request& request) const;
  const RouteAuth* route_auth(const Request& request) const;
  // The key of routes_ that serves `path`: itself, or the first pattern that matches it
  // (`/images/{id}`); `path` when none does.
  const std::string& route_key(const std::string& path) const;

  RouterContext ctx_;
  FileLinks files_;
  Thumbnails thumbnails_;
  JobsApi jobs_;
  DashboardPages pages_;
  std::map<std::string, std::map<std::string, RouteFn>> routes_;  // path → method → handler
  std::vector<PathPattern> patterns_;  // the keys of routes_ with `{name}` segments
  std::map<std::string, std::map<std::string, const RouteAuth*>> route_auth_;  // pipelines'
};

}  // namespace imagepipe::serve
