// trigger.http.batch and trigger.http.catalogue: the routes a job route brings along
// (seed 004's POST /api/v1/generate/batch and GET /api/v1/providers), read here with the
// file's line and column; the daemon serves them (runner/daemon/src/serve_batch.cpp,
// serve_catalogue.cpp).
#include <algorithm>

#include "config/pipeline_schema.hpp"
#include "config/suggest.hpp"

namespace imagepipe::config {

namespace {

const std::vector<std::string> kBatchKeys = {"path", "max_items"};
const std::vector<std::string> kCatalogueKeys = {"path", "step", "list", "default"};
constexpr std::int64_t kMaxBatchItems = 100;

std::optional<std::string> read_route_path(Mapping& block, const HttpTrigger& trigger) {
  block.require("path");
  auto path = block.string("path");
  if (!path) return std::nullopt;
  LoadContext& context = block.context();
  if (path->empty() || path->front() != '/' || path->find('{') != std::string::npos) {
    context.report(context.document.at_value(
        block.pointer("path"),
        block.path("path") + " must be an exact path starting with '/', got '" + *path + "'"));
    return std::nullopt;
  }
  if (*path == trigger.path) {
    context.report(context.document.at_value(
        block.pointer("path"), block.path("path") + " is the route's own path",
        "give it a path of its own, e.g. '" + trigger.path + "/batch'"));
    return std::nullopt;
  }
  return path;
}

}  // namespace

void read_extra_routes(Mapping& http, HttpTrigger& trigger) {
  const bool runs_jobs =
      trigger.mode == HttpTrigger::Mode::async || trigger.mode == HttpTrigger::Mode::sync;
  if (http.has("batch")) {
    if (!runs_jobs || trigger.method != "POST") {
      http.reject("batch", "applies only to a POST route that runs jobs");
    } else if (Mapping block(http.context(), http.pointer("batch"), kBatchKeys); block.valid()) {
      if (auto path = read_route_path(block, trigger)) {
        BatchRoute batch{*path};
        if (auto most = block.integer("max_items", 1, kMaxBatchItems))
          batch.max_items = static_cast<std::size_t>(*most);
        trigger.batch = std::move(batch);
      }
    }
  }
  if (http.has("catalogue")) {
    if (!runs_jobs) {
      http.reject("catalogue", "applies only to a route that runs jobs");
    } else if (Mapping block(http.context(), http.pointer("catalogue"), kCatalogueKeys);
               block.valid()) {
      block.require("step");
      auto path = read_route_path(block, trigger);
      auto step = block.string("step");
      if (path && step) {
        CatalogueRoute catalogue{*path, *step};
        if (auto list = block.string("list")) catalogue.list_key = *list;
        if (auto fallback = block.string("default")) catalogue.default_key = *fallback;
        trigger.catalogue = std::move(catalogue);
      }
    }
  }
}

void check_catalogue_step(LoadContext& context, const Pipeline& pipeline) {
  if (!pipeline.trigger.http || !pipeline.trigger.http->catalogue) return;
  const auto& wanted = pipeline.trigger.http->catalogue->step;
  std::vector<std::string> choosing;
  bool loaded = false;
  for (const auto& step : pipeline.steps) {
    loaded = loaded || step.name == wanted;
    if (step.choose) {
      if (step.name == wanted) return;
      choosing.push_back(step.name);
    }
  }
  // A step of that name that did not load has its own error already.
  if (!loaded && context.document.root.is_object())
    if (const auto steps = context.document.root.find("steps");
        steps != context.document.root.end() && steps->is_array())
      for (const auto& step : *steps)
        if (step.is_object() && step.value("name", nlohmann::json()) == wanted) return;
  context.report(context.document.at_value(
      "/trigger/http/catalogue/step",
      "trigger.http.catalogue.step: '" + wanted + "' is not a step with alternatives",
      choosing.empty() ? "a catalogue lists the alternatives of a step that has 'choose'"
                       : suggestion_hint(wanted, choosing, "steps with alternatives are")));
}

}  // namespace imagepipe::config
