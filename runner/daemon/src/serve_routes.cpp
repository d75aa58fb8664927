#include "serve_routes.hpp"

#include "serve_batch.hpp"
#include "serve_catalogue.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "imagepipe/logging.hpp"
#include "openapi.hpp"
#include "serve_auth_openapi.hpp"
#include "serve_providers.hpp"
#include "serve_storage_route.hpp"
#include "serve_template.hpp"
#include "serve_trace.hpp"
#include "serve_job_view.hpp"

namespace imagepipe::serve {

using nlohmann::json;

namespace {

constexpr const char* kJobsPrefix = "/jobs/";

bool valid_request_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

// A trigger's answer names its job in Location (async, sync still running, failed).
std::string job_id_of(const Response& response) {
  auto it = response.headers.find("Location");
  if (it == response.headers.end() || it->second.rfind(kJobsPrefix, 0) != 0) return {};
  return it->second.substr(std::strlen(kJobsPrefix));
}

// The dashboard's pages hold no data: they pass the gate, and ask for a key for the API.
const RouteAuth kPublicPage{.anonymous = true};

JobsApiHooks with_thumbnails(JobsApiHooks hooks, Thumbnails* thumbnails) {
  hooks.thumbnails = thumbnails;
  return hooks;
}

// Each schedule under its pipeline: next and last run in UTC; null when there is none.
void add_schedules(const std::vector<ScheduleStatus>& schedules, json& pipelines) {
  for (const auto& s : schedules) {
    json entry = {{"cron", s.cron},
                  {"timezone", s.timezone},
                  {"next_run", time_or_null(s.next_run)},
                  {"last_run", s.last_run ? json(iso8601(s.last_run->due)) : json(nullptr)}};
    if (s.last_run) entry["last_job_id"] = s.last_run->job_id;
    pipelines[s.pipeline]["schedules"].push_back(std::move(entry));
  }
}

}  // namespace

Router::Router(RouterContext context)
    : ctx_(std::move(context)),
      files_(ctx_.pipelines, ctx_.host),
      thumbnails_(ctx_.trigger.store, ctx_.pipelines, ctx_.host, ctx_.metrics),
      jobs_(ctx_.trigger.store, with_thumbnails(ctx_.jobs, &thumbnails_)) {
  add("GET", "/health", [](Request&) -> Task<Response> {
    co_return json_response(200, {{"ok", true}});
  });
  add("GET", "/health/live", [](Request&) -> Task<Response> {
    co_return json_response(200, {{"ok", true}});
  });
  add("GET", "/health/ready", [this](Request&) { return health_ready(); });
  // "/health/" is what FastAPI services (seed 004) answer their overall status on.
  add("GET", "/health/", [this](Request&) { return health_ready(); });
  add("GET", "/metrics", [this](Request&) { return metrics(); });
  add("GET", "/openapi.json", [this](Request& r) -> Task<Response> { co_return openapi(r); });
  add("GET", "/providers", [this](Request&) -> Task<Response> {
    co_return json_response(200, providers_listing(ctx_.pipelines));
  });
  for (const auto& served : ctx_.pipelines.all) {
    const auto* s = served.get();
    if (!s->pipeline->trigger.http) continue;  // schedules only
    const auto& http = *s->pipeline->trigger.http;
    route_auth_[http.path][http.method] = &http.auth;
    PathPattern pattern(http.path);
    if (pattern.templated() && !routes_.count(http.path)) patterns_.push_back(pattern);
    if (http.mode == HttpTrigger::Mode::render)
      add(http.method, http.path,
          [s](Request&) -> Task<Response> { co_return render_template_route(*s); });
    else if (http.mode == HttpTrigger::Mode::storage)
      add(http.method, http.path,
          [s, pattern,
           storage = std::shared_ptr<Storage>(open_route_storage(*s, ctx_.host))](Request& r) {
            return handle_storage_route(*s, storage.get(), r,
                                        pattern.match(r.path).value_or(PathValues{}));
          });
    else if (pattern.templated())
      add(http.method, http.path, [this, s, pattern](Request& r) {
        return handle_trigger(*s, r, ctx_.trigger, pattern.match(r.path).value_or(PathValues{}));
      });
    else
      add(http.method, http.path,
          [this, s](Request& r) { return handle_trigger(*s, r, ctx_.trigger); });
    // The routes a job route brings along share its auth.
    if (http.batch) {
      route_auth_[http.batch->path]["POST"] = &http.auth;
      add("POST", http.batch->path,
          [this, s](Request& r) { return handle_batch(*s, r, ctx_.trigger); });
    }
    if (http.catalogue) {
      route_auth_[http.catalogue->path]["GET"] = &http.auth;
      add("GET", http.catalogue->path, [s](Request&) -> Task<Response> {
        co_return json_response(200, catalogue_body(*s->pipeline));
      });
    }
  }
  // Someone who types the daemon's address into a browser lands on the dashboard.
  if (!routes_.count("/")) {
    route_auth_["/"]["GET"] = &kPublicPage;
    add("GET", "/", [](Request&) -> Task<Response> {
      Response r{.status = 302, .content_type = "text/plain; charset=utf-8"};
      r.headers["Location"] = "/ui/";
      r.body = "/ui/\n";
      co_return r;
    });
  }
}

const std::string& Router::route_key(const std::string& path) const {
  if (routes_.count(path)) return path;
  for (const auto& pattern : patterns_)
    if (pattern.match(path)) return pattern.text();
  return path;
}

void Router::add(const std::string& method, const std::string& path, RouteFn fn) {
  routes_[path][method] = std::move(fn);
}

const RouteAuth* Router::route_auth(const Request& request) const {
  if (DashboardPages::owns(request.path)) return &kPublicPage;
  auto path = route_auth_.find(route_key(request.path));
  if (path == route_auth_.end()) return nullptr;
  auto method = path->second.find(request.method);
  return method == path->second.end() ? nullptr : method->second;
}

Task<Response> Router::handle(Request& request) {
  const auto* incoming = request.header("x-request-id");
  const std::string request_id = incoming && valid_request_id(*incoming) ? *incoming : new_job_id();
  request.headers["x-request-id"] = request_id;
  adopt_trace(request.headers);

  Response response;
  std::optional<Response> refused;
  if (ctx_.access) refused = co_await ctx_.access->admit(request, route_auth(request));
  if (refused) {
    request.route = routes_.count(route_key(request.path)) ? route_key(request.path) : "unmatched";
    response = std::move(*refused);
  } else if (DashboardPages::owns(request.path)) {
    response = pages_.handle(request);
  } else if (JobsApi::owns(request.path)) {
    response = co_await jobs_.handle(request);
  } else if (request.path.rfind(kFilesPrefix, 0) == 0) {
    request.route = "/files/{pipeline}/{key}";
    if (request.method != "GET") {
      response = error_response(
          405, "method " + request.method + " is not allowed on /files/; allowed: GET");
      response.headers["Allow"] = "GET";
    } else {
      response = co_await files_.handle(request);
    }
  } else if (auto path = routes_.find(route_key(request.path)); path == routes_.end()) {
    request.route = "unmatched";
    response = error_response(404, "no route for " + request.method + " " + request.path);
  } else if (auto method = path->second.find(request.method); method == path->second.end()) {
    request.route = path->first;
    std::string allowed;
    for (const auto& [m, _] : path->second) allowed += (allowed.empty() ? "" : ", ") + m;
    response = error_response(405, "method " + request.method + " is not allowed on " +
                                       request.path + "; allowed: " + allowed);
    response.headers["Allow"] = allowed;
  } else {
    request.route = path->first;
    response = co_await method->second(request);
  }
  if (ctx_.access) ctx_.access->decorate(request, response);
  response.headers["X-Request-ID"] = request_id;
  if (response.job_id.empty()) response.job_id = job_id_of(response);
  co_return response;
}

Task<Response> Router::health_ready() {
  json pipelines = json::object();
  for (const auto& served : ctx_.pipelines.all) {
    json p = {{"ready", served->ready()}};
    if (!served->unavailable.empty()) p["reason"] = served->unavailable;
    pipelines[served->pipeline->name] = std::move(p);
  }
  if (ctx_.scheduler) add_schedules(ctx_.scheduler->status(), pipelines);
  json body = {{"pipelines", std::move(pipelines)}};
  bool ready = !ctx_.shutting_down;
  try {
    co_await ctx_.trigger.store.ping();
    body["job_store"] = "ok";
  } catch (const std::exception& e) {
    body["job_store"] = std::string("unusable: ") + e.what();
    ready = false;
  }
  if (ctx_.shutting_down) body["shutting_down"] = true;
  body["ready"] = ready;
  co_return json_response(ready ? 200 : 503, body);
}

Task<Response> Router::metrics() {
  try {
    const auto counts = co_await ctx_.trigger.store.counts();
    for (const auto& served : ctx_.pipelines.all) {
      if (served->pipeline->trigger.runs_no_job()) continue;  // never has jobs
      for (const auto* status :
           {"queued", "running", "completed", "completed_with_errors", "failed"}) {
        auto it = counts.by_pipeline_status.find({served->pipeline->name, status});
        ctx_.metrics.set(
            "imagepipe_jobs", {{"pipeline", served->pipeline->name}, {"status", status}},
            it == counts.by_pipeline_status.end() ? 0.0 : static_cast<double>(it->second));
      }
    }
    ctx_.metrics.set("imagepipe_queue_depth", {}, static_cast<double>(counts.queued));
    ctx_.metrics.set("imagepipe_callbacks_pending", {},
                     static_cast<double>(counts.callbacks_pending));
  } catch (const std::exception& e) {
    ctx_.trigger.log->warn("metrics: cannot count jobs: {}", e.what());
  }
  if (ctx_.process_metrics) ctx_.process_metrics->update();
  Response r{.status = 200, .content_type = "text/plain; version=0.0.4; charset=utf-8"};
  r.body = ctx_.metrics.prometheus_text();
  co_return r;
}

Response Router::openapi(const Request& request) const {
  std::string server = ctx_.public_url;
  if (server.empty()) {
    const auto* host = request.header("host");
    server = "http://" + (host ? *host : std::string("localhost:8000"));
  }
  std::vector<const Pipeline*> pipelines;
  for (const auto& served : ctx_.pipelines.all) pipelines.push_back(served->pipeline.get());
  auto document = openapi_document(pipelines, server);
  if (ctx_.access) document_security(document, ctx_.access->config(), pipelines);
  return json_response(200, document);
}

}  // namespace imagepipe::serve
