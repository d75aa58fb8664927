// Job execution. Every job runs on one strand: item workers, provider calls and sink
// writes interleave there, while pixel work hops to the CPU pool and back.
#include "imagepipe/engine.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>

#include "imagepipe/logging.hpp"
#include "engine_parts.hpp"
#include "instances.hpp"
#include "sources.hpp"
#include "wait_group.hpp"

namespace imagepipe {

using nlohmann::json;
using namespace std::chrono;

namespace {

json now_scope(system_clock::time_point t) {
  auto secs = system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char date[16], compact[24], year[8], month[4], day[4], hour[4], minute[4], second[4];
  std::strftime(date, sizeof date, "%Y-%m-%d", &tm);
  std::strftime(compact, sizeof compact, "%Y%m%dT%H%M%SZ", &tm);
  std::strftime(year, sizeof year, "%Y", &tm);
  std::strftime(month, sizeof month, "%m", &tm);
  std::strftime(day, sizeof day, "%d", &tm);
  std::strftime(hour, sizeof hour, "%H", &tm);
  std::strftime(minute, sizeof minute, "%M", &tm);
  std::strftime(second, sizeof second, "%S", &tm);
  return {{"iso", iso8601(t)}, {"date", date},     {"compact", compact}, {"year", year},
          {"month", month},    {"day", day},       {"hour", hour},       {"minute", minute},
          {"second", second},  {"timestamp", static_cast<long long>(secs)}};
}

}  // namespace

namespace detail {
std::string redact(std::string text, const std::vector<std::string>& secrets) {
  text = redact_secrets(std::move(text));
  for (const auto& s : secrets) {
    if (s.size() < 4) continue;  // too short to redact without mangling ordinary words
    for (auto pos = text.find(s); pos != std::string::npos; pos = text.find(s, pos + 3)) text.replace(pos, s.size(), "***");
  }
  return text;
}
}  // namespace detail

// An entry marked `optional` whose secret options (writeOnly) are all empty strings is
// skipped when a later one exists: running a demo without OPENAI_API_KEY is then a
// deployment choice the pipeline states, not a failure of each item.
std::string unconfigured_reason(const PluginUse& use) {
  if (!use.descriptor) return {};
  const auto& props = use.descriptor->options_schema.value("properties", json::object());
  std::string names;
  for (const auto& [key, schema] : props.items()) {
    if (!schema.is_object() || !schema.value("writeOnly", false)) continue;
    const auto it = use.with.find(key);
    // Absent (no default declared) says nothing; only an explicitly empty value does.
    if (it == use.with.end() || !(it->is_string() && it->get<std::string>().empty())) return {};
    names += (names.empty() ? "" : ", ") + key;
  }
  return names.empty() ? std::string() : "not configured: " + names + " empty";
}

namespace {
using detail::redact;

// A batch (a source that lists items) completes, with errors when some or all items
// failed, and fails only when it cannot run at all; a single-item job fails with its item.
std::string job_status(const Pipeline& p, const JobTally& tally) {
  const auto unfinished = tally.total - tally.processed;
  if (unfinished == 0) return "completed";
  const bool batch = p.source.from == SourceSpec::From::storage || p.source.from == SourceSpec::From::files;
  if (!batch && unfinished == tally.total) return "failed";
  return "completed_with_errors";
}

// Whether a step's `when` says no for this item.
bool skipped(const Template& when, const json& scope) {
  std::string value = when.render_string(scope);
  for (auto& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return value.empty() || value == "false" || value == "no" || value == "off" || value == "0";
}

// The alternative an item takes: the one the step's `choose` names for it.
std::size_t choose_alternative(const Step& step, const json& scope) {
  if (!step.choose) return 0;
  const std::string name = step.choose->render_string(scope);
  std::string names;
  for (std::size_t i = 0; i < step.alternatives.size(); ++i) {
    if (!step.is_enabled(step.alternatives[i].name)) continue;
    if (step.alternatives[i].name == name) return i;
    names += (names.empty() ? "" : ", ") + step.alternatives[i].name;
  }
  throw Error(ErrorClass::invalid_input,
              "step '" + step.name + "': '" + name + "' is not one of its " +
                  (step.enabled.empty() ? "" : "enabled ") + "alternatives (" + names + ")");
}

json item_scope(const ItemResult& item) {
  return {{"index", item.index}, {"name", item.name}, {"stem", item.stem}, {"ext", item.ext}};
}

}  // namespace

Engine::Engine(std::shared_ptr<const Pipeline> pipeline, Host host)
    : pipeline_(std::move(pipeline)), host_(std::move(host)), instances_(std::make_unique<detail::Instances>()) {
  const auto& p = *pipeline_;
  if (host_.metrics) {
    host_.metrics->describe("imagepipe_jobs_total",
                            "Jobs finished by this process, by pipeline and status");
    host_.metrics->describe("imagepipe_items_total", "Items finished, by pipeline and status");
    host_.metrics->describe("imagepipe_item_duration_seconds",
                            "Time one item took, all its steps, by pipeline");
  }
  if (host_.metrics && p.calls_providers()) {
    host_.metrics->describe("imagepipe_provider_calls_total",
                            "Provider calls, by provider and outcome");
    host_.metrics->describe("imagepipe_provider_call_seconds",
                            "Time of one provider call, by provider");
    host_.metrics->describe("imagepipe_provider_usage_total",
                            "Usage the providers reported (tokens, credits, megapixels), by kind");
    host_.metrics->describe("imagepipe_fall_throughs_total",
                            "Items passed to the next chain entry");
    host_.metrics->describe("imagepipe_provider_skipped_total",
                            "Items that skipped an unconfigured entry");
  }
  if (host_.metrics && !p.steps.empty())
    host_.metrics->describe("imagepipe_step_seconds", "Time of one step for one item, by pipeline and step");
  for (const auto& step : p.steps) {
    auto& alternatives = instances_->steps.emplace_back();
    for (const auto& action : step.alternatives) {
      auto& built = alternatives.emplace_back();
      for (const auto& entry : action.providers) {
        built.providers.push_back(build_plugin<Provider>(entry.plugin, host_));
        // The same name on every node serving this pipeline file: shared limits key on it.
        const auto gate_key = p.name + "/" + step.name + "/" +
                              std::to_string(&action - step.alternatives.data()) + "/" +
                              std::to_string(built.gates.size()) + "/" + entry.plugin.use;
        built.gates.push_back(
            std::make_unique<ProviderGate>(entry.limit, *host_.clock, gate_key));
        built.unconfigured.push_back(entry.optional ? unconfigured_reason(entry.plugin) : "");
      }
      for (const auto& t : action.transforms) built.transforms.push_back(build_plugin<Transform>(t, host_));
    }
  }
  if (p.source.storage) instances_->source_storage = build_plugin<Storage>(*p.source.storage, host_);
  if (p.sink.storage) instances_->sink_storage = build_plugin<Storage>(*p.sink.storage, host_);
  if (p.sink.copy) instances_->copy_storage = build_plugin<Storage>(*p.sink.copy, host_);
  for (const auto& n : p.notifiers) instances_->notifiers.push_back(build_plugin<Notifier>(n, host_));
  for (const auto& g : p.guards) instances_->guards.push_back(build_plugin<Guard>(g, host_));
  if (host_.metrics && !p.guards.empty())
    host_.metrics->describe("imagepipe_guard_refusals_total",
                            "Prompts a guard refused before any provider call, by pipeline and guard");
}

Engine::~Engine() = default;

bool Engine::has_notifiers() const { return !instances_->notifiers.empty(); }

Task<JobResult> Engine::run(JobRequest request, std::string job_id, ProgressFn progress,
                            ItemSink* items) {
  const auto& p = *pipeline_;
  detail::JobState job;
  job.result.id = std::move(job_id);
  job.result.pipeline = p.name;
  job.result.started_at = host_.clock->now();
  job.request = std::move(request);
  job.progress = std::move(progress);
  job.log = host_.log->clone("job " + job.result.id.substr(0, 8));
  if (instances_->sink_storage) job.result.sink = instances_->sink_storage->location();
  job.scope = job_scope(job.result, job.request, false);
  job.scope["now"] = now_scope(job.result.started_at);
  if (instances_->sink_storage) {
    // The key template's constant prefix, for callbacks that report where results went.
    const auto& raw = p.sink.key.raw();
    if (raw.is_string()) {
      auto prefix_template = Template::compile_string(raw.get<std::string>().substr(0, raw.get<std::string>().rfind('/') + 1));
      job.result.sink["prefix"] = prefix_template.render_string(job.scope);
    }
    job.scope["sink"] = job.result.sink;
  }

  job.items = items;
  std::optional<Error> source_error;
  try {
    SourceContext ctx{p, job.request, job.scope, instances_->source_storage.get(), host_.http,
                      p.limits.max_image_bytes};
    job.source = co_await open_source(ctx);
  } catch (const Error& e) {
    source_error = e;
  } catch (const std::exception& e) {
    source_error = Error(ErrorClass::internal, e.what());
  }

  if (source_error) {
    job.result.status = "failed";
    job.result.error = redact(source_error->what(), p.secrets);
    job.result.error_class = source_error->cls();
    job.log->warn("source failed: {}", job.result.error);
  } else {
    job.total = job.source->size();
    auto ex = co_await asio::this_coro::executor;
    WaitGroup workers(ex);
    const auto n = std::min<std::size_t>(std::max(1, p.concurrency), job.total);
    workers.add(static_cast<int>(n));
    for (std::size_t w = 0; w < n; ++w)
      asio::co_spawn(ex, run_worker(job), [&workers](std::exception_ptr) { workers.done(); });
    co_await workers.wait();
    const auto finished = job.result.tally.total;
    if (job.cancelled && !job.failure) co_await cancel_rest(job);
    co_await job.source->close();
    if (items) {
      try {
        co_await items->flush();
      } catch (const std::exception& e) {
        if (!job.failure)
          job.failure =
              Error(ErrorClass::unavailable, std::string("cannot record the items: ") + e.what());
      }
    }

    // Items never started count as not completed, as before they were marked cancelled.
    job.result.status = job_status(p, job.result.tally);
    if (job.result.tally.total > finished) job.result.status = "cancelled";
    if (job.failure) {
      job.result.status = "failed";
      job.result.error = redact(job.failure->what(), p.secrets);
      job.result.error_class = job.failure->cls();
      job.log->warn("stopped after {} item(s): {}", job.result.tally.total, job.result.error);
    }
  }
  job.result.finished_at = host_.clock->now();
  if (host_.metrics) {
    host_.metrics->inc("imagepipe_jobs_total", {{"pipeline", p.name}, {"status", job.result.status}});
  }
  job.log->info("{} in {:.3f}s: {} item(s), {} failed", job.result.status,
                job.result.metrics()["duration_seconds"].get<double>(), job.result.tally.total,
                job.result.tally.failed);
  co_return std::move(job.result);
}

Task<void> Engine::notify(const JobResult& job, const JobRequest& request) {
  if (instances_->notifiers.empty()) co_return;
  const bool inline_data = pipeline_->sink.inline_result || !pipeline_->sink.storage;
  auto scope = job_scope(job, request, inline_data);
  auto log = host_.log->clone("job " + job.id.substr(0, 8));
  for (auto& notifier : instances_->notifiers) {
    // Named, not a temporary: g++ 12 destroys an aggregate temporary inside a co_await
    // expression twice (see http_client.hpp).
    const Notification notification{job.id, &scope, log};
    co_await notifier->notify(notification);
  }
}

namespace {

ItemResult new_item(detail::JobState& job, const SourceItem& source) {
  ItemResult item;
  item.index = job.next++;
  item.name = source.name;
  item.stem = sanitize_stem(item.name);
  // Nothing usable in the name (or no name): named after the job, never "" (a hidden
  // file) and never one shared name for every such image.
  if (item.stem.empty()) item.stem = "image_" + job.result.id.substr(0, 8);
  item.ext = extension_of(item.name);
  return item;
}

// The listing failed part way: the items under way finish, no other starts.
void stop_job(detail::JobState& job, std::exception_ptr e) {
  if (job.failure) return;
  try {
    std::rethrow_exception(e);
  } catch (const Error& error) {
    job.failure = error;
  } catch (const std::exception& error) {
    job.failure = Error(ErrorClass::internal, error.what());
  }
}

}  // namespace

Task<void> Engine::run_worker(detail::JobState& job) {
  while (!job.failure) {
    if (job.request.cancelled && job.request.cancelled()) {
      job.cancelled = true;
      co_return;
    }
    std::optional<SourceItem> source;
    try {
      source = co_await job.source->next();
    } catch (...) {
      stop_job(job, std::current_exception());
    }
    if (!source) co_return;
    auto item = new_item(job, *source);
    co_await run_item(job, item, *source);
    source.reset();
    co_await item_finished(job, std::move(item));
  }
}

// The items a cancel left unstarted are reported (and counted) as cancelled, as they
// would have been had the whole listing been in memory.
Task<void> Engine::cancel_rest(detail::JobState& job) {
  try {
    while (auto source = co_await job.source->next()) {
      auto item = new_item(job, *source);
      item.status = "cancelled";
      item.error = "the job was cancelled before this item started";
      co_await item_finished(job, std::move(item));
    }
  } catch (...) {
    stop_job(job, std::current_exception());
  }
}

Task<void> Engine::item_finished(detail::JobState& job, ItemResult item) {
  job.result.tally.add(item);
  ++job.done;
  if (job.progress) job.progress(item, job.done, std::max(job.total, job.done));
  const bool kept = item.index < JobResult::kKeptItems;
  // Inline bytes serve templates and callbacks, which see the kept items only.
  if (!kept)
    for (auto& output : item.outputs) output.data.reset();
  if (job.items) {
    try {
      co_await job.items->add(item);
    } catch (const std::exception& e) {
      if (!job.failure)
        job.failure =
            Error(ErrorClass::unavailable, std::string("cannot record the items: ") + e.what());
    }
  }
  if (!kept) co_return;
  auto& kept_items = job.result.items;
  if (kept_items.size() <= item.index) kept_items.resize(item.index + 1);
  kept_items[item.index] = std::move(item);
}

namespace {

// How many times each image source is still to be read: [0] the item's own image, [1 + s]
// step s's images. The last reader takes the images; earlier ones get copies.
std::vector<int> image_readers(const Pipeline& p) {
  std::vector<int> readers(p.steps.size() + 1, 0);
  for (const auto& step : p.steps)
    for (int input : step.inputs) ++readers[static_cast<std::size_t>(input + 1)];
  if (p.sink.steps.empty())
    ++readers[p.steps.size()];
  else
    for (int s : p.sink.steps) ++readers[static_cast<std::size_t>(s + 1)];
  return readers;
}

// Images of one source for a reader: moved on its last read, copied before.
std::vector<Artifact> read_images(std::vector<Artifact>& images, int& readers) {
  if (--readers > 0) return images;
  return std::move(images);
}

json step_scope(const json& record, const std::vector<Artifact>& images) {
  json scope = record;
  scope["images"] = images.size();
  if (!images.empty()) {
    scope["metadata"] = images.front().metadata;
  }
  return scope;
}

}  // namespace

Task<void> Engine::run_item(detail::JobState& job, ItemResult& item, const SourceItem& source) {
  const auto& p = *pipeline_;
  const auto index = item.index;
  const auto started = host_.clock->steady_now();
  json scope = job.scope;
  scope["item"] = item_scope(item);
  scope["steps"] = json::object();
  ItemContext ctx{job.result.id, index, item.name, &scope, job.log};
  detail::ItemWork work{p, host_, job, item, scope, ctx,
                        DecodeLimits{p.limits.max_image_pixels, p.limits.max_image_bytes,
                                     !p.source.keep_orientation},
                        &instances_->guards};

  std::optional<Error> failure;
  try {
    // images[0]: the item's own; images[1 + s]: what step s yielded.
    std::vector<std::vector<Artifact>> images(p.steps.size() + 1);
    if (source.load) {
      auto bytes = co_await source.load();
      const auto info = probe_image(bytes, work.limits);
      scope["item"]["width"] = info.width;
      scope["item"]["height"] = info.height;
      // A provider is paid per call, and an image cut short would be paid for anyway (or
      // edited as its grey half): it is read whole first, on the CPU pool.
      if (p.calls_providers()) {
        // PNG and JPEG verify a row at a time or at 1/8 scale; the others decode whole, and
        // those pixels count against the budget while they live.
        std::shared_ptr<PixelReservation> held;
        if (host_.pixels && info.format != ImageFormat::png && info.format != ImageFormat::jpeg)
          held = co_await host_.pixels->reserve(info.width, info.height, info.channels,
                                                work.pixels_held.get());
        co_await host_.cpu->run([&bytes, limits = work.limits] { verify_image(bytes, limits); });
      }
      images[0].push_back(Artifact::from_bytes(std::move(bytes)));
    }
    auto readers = image_readers(p);

    for (std::size_t s = 0; s < p.steps.size(); ++s) {
      const Step& step = p.steps[s];
      std::vector<Artifact> inputs;
      for (int input : step.inputs) {
        const auto from = static_cast<std::size_t>(input + 1);
        for (auto& a : read_images(images[from], readers[from])) inputs.push_back(std::move(a));
      }
      if (step.when && skipped(*step.when, scope)) {
        images[s + 1] = std::move(inputs);
        item.steps.push_back({{"step", step.name}, {"skipped", true}});
        continue;
      }
      const auto t0 = host_.clock->steady_now();
      const std::size_t choice = choose_alternative(step, scope);
      const StepAction& action = step.alternatives[choice];
      auto& built = instances_->steps[s][choice];
      json record = {{"step", step.name}};
      if (!action.name.empty()) record["alternative"] = action.name;
      if (action.calls_provider()) {
        images[s + 1] = co_await detail::run_provider_step(work, step, action, built,
                                                           std::move(inputs), record);
      } else {
        images[s + 1] = co_await detail::run_transform_step(work, built, std::move(inputs), true);
      }
      const double seconds = duration<double>(host_.clock->steady_now() - t0).count();
      record["images"] = images[s + 1].size();
      record["seconds"] = std::round(seconds * 1000) / 1000;
      if (host_.metrics)
        host_.metrics->observe("imagepipe_step_seconds", {{"pipeline", p.name}, {"step", step.name}},
                               seconds);
      scope["steps"][step.name] = step_scope(record, images[s + 1]);
      item.steps.push_back(std::move(record));
    }

    // The results: the sink's steps in order, else the last step's (or the item's own).
    std::vector<detail::StepImage> results;
    auto take = [&](std::size_t from) {
      auto taken = read_images(images[from], readers[from]);
      for (std::size_t i = 0; i < taken.size(); ++i)
        results.push_back({from == 0 ? p.steps.size() : from - 1, i, taken.size(), std::move(taken[i])});
    };
    if (p.sink.steps.empty()) {
      take(p.steps.size());
    } else {
      for (int s : p.sink.steps) take(static_cast<std::size_t>(s + 1));
    }
    co_await detail::write_results(work, *instances_, std::move(results));
    item.status = "completed";
  } catch (const Error& e) {
    failure = e;
  } catch (const std::exception& e) {
    failure = Error(ErrorClass::internal, e.what());
  }
  if (failure) {
    item.status = "failed";
    item.error_class = failure->cls();
    item.error = redact(failure->what(), p.secrets);
    item.outputs.clear();
    job.log->warn("{}: failed ({}): {}", item.name, to_string(failure->cls()), item.error);
  }
  item.duration_seconds = duration<double>(host_.clock->steady_now() - started).count();
  if (host_.metrics) {
    host_.metrics->observe("imagepipe_item_duration_seconds", {{"pipeline", p.name}}, item.duration_seconds);
    host_.metrics->inc("imagepipe_items_total", {{"pipeline", p.name}, {"status", item.status}});
  }
}

}  // namespace imagepipe
