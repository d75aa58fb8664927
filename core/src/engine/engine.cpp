// Job execution. Every job runs on one strand: item workers, provider calls and sink
// writes interleave there, while pixel work hops to the CPU pool and back.
#include "imagepipe/engine.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>

#include "imagepipe/logging.hpp"
#include "imagepipe/retry.hpp"
#include "instances.hpp"
#include "provider_gate.hpp"
#include "sources.hpp"
#include "typed_params.hpp"
#include "wait_group.hpp"

namespace imagepipe {

using nlohmann::json;
using namespace std::chrono;

struct Engine::Instances {
  std::vector<std::unique_ptr<Provider>> providers;
  std::vector<std::unique_ptr<ProviderGate>> gates;
  // Per chain entry: why it is not configured (every secret option empty), else empty.
  std::vector<std::string> unconfigured;
  std::vector<std::unique_ptr<Transform>> transforms;
  std::unique_ptr<Storage> source_storage;
  std::unique_ptr<Storage> sink_storage;
  std::unique_ptr<Storage> copy_storage;
  std::vector<std::unique_ptr<Notifier>> notifiers;
};

struct Engine::JobState {
  JobResult result;
  JobRequest request;
  json scope;  // job, request, now, sink: the part every item shares
  std::vector<SourceItem> sources;
  std::size_t next = 0;
  std::size_t done = 0;
  // Sink keys written by this job, with the item that wrote each: a second item rendering
  // the same key fails instead of overwriting the first one's result.
  std::map<std::string, std::size_t> keys_written;
  ProgressFn progress;
  std::shared_ptr<spdlog::logger> log;
};

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

std::string extension_of(const std::string& name) {
  auto dot = name.rfind('.');
  if (dot == std::string::npos) return {};
  std::string ext = name.substr(dot + 1);
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  text = redact_secrets(std::move(text));
  for (const auto& s : secrets) {
    if (s.size() < 4) continue;  // too short to redact without mangling ordinary words
    for (auto pos = text.find(s); pos != std::string::npos; pos = text.find(s, pos + 3)) text.replace(pos, s.size(), "***");
  }
  return text;
}


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

// Numeric usage fields as Prometheus counters: tokens, credits, megapixels.
void count_usage(Metrics& metrics, const std::string& provider, const json& usage) {
  for (const auto& [k, v] : usage.items())
    if (v.is_number())
      metrics.inc("imagepipe_provider_usage_total", {{"provider", provider}, {"kind", k}},
                  v.get<double>());
}

// A batch (a source that lists items) completes, with errors when some or all items
// failed, and fails only when it cannot run at all; a single-item job fails with its item.
std::string job_status(const Pipeline& p, const std::vector<ItemResult>& items) {
  const auto failed = static_cast<std::size_t>(std::count_if(
      items.begin(), items.end(), [](const ItemResult& item) { return item.status != "completed"; }));
  if (failed == 0) return "completed";
  const bool batch = p.source.from == SourceSpec::From::storage || p.source.from == SourceSpec::From::files;
  if (!batch && failed == items.size()) return "failed";
  return "completed_with_errors";
}

// s3://bucket/key for S3, the path for local storage, else "<storage>:<key>".
std::string storage_uri(const json& location, const std::string& key) {
  const auto storage = location.value("storage", "");
  if (storage == "s3") return "s3://" + location.value("bucket", "") + "/" + key;
  if (storage == "local") return (std::filesystem::path(location.value("root", "")) / key).string();
  if (storage == "azure-blob") return location.value("endpoint", "") + "/" + location.value("container", "") + "/" + key;
  return storage + ":" + key;
}

json item_scope(const ItemResult& item) {
  return {{"index", item.index}, {"name", item.name}, {"stem", item.stem}, {"ext", item.ext}};
}

}  // namespace

Engine::Engine(std::shared_ptr<const Pipeline> pipeline, Host host)
    : pipeline_(std::move(pipeline)), host_(std::move(host)), instances_(std::make_unique<Instances>()) {
  const auto& p = *pipeline_;
  if (host_.metrics && !p.providers.empty()) {
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
  for (const auto& entry : p.providers) {
    instances_->providers.push_back(build_plugin<Provider>(entry.plugin, host_));
    instances_->gates.push_back(std::make_unique<ProviderGate>(entry.limit, *host_.clock));
    instances_->unconfigured.push_back(entry.optional ? unconfigured_reason(entry.plugin) : "");
  }
  for (const auto& t : p.transforms) instances_->transforms.push_back(build_plugin<Transform>(t, host_));
  if (p.source.storage) instances_->source_storage = build_plugin<Storage>(*p.source.storage, host_);
  if (p.sink.storage) instances_->sink_storage = build_plugin<Storage>(*p.sink.storage, host_);
  if (p.sink.copy) instances_->copy_storage = build_plugin<Storage>(*p.sink.copy, host_);
  for (const auto& n : p.notifiers) instances_->notifiers.push_back(build_plugin<Notifier>(n, host_));
}

Engine::~Engine() = default;

bool Engine::has_notifiers() const { return !instances_->notifiers.empty(); }

Task<JobResult> Engine::run(JobRequest request, std::string job_id, ProgressFn progress) {
  const auto& p = *pipeline_;
  JobState job;
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

  std::optional<Error> source_error;
  try {
    SourceContext ctx{p, job.request, job.scope, instances_->source_storage.get(), host_.http,
                      p.limits.max_image_bytes};
    job.sources = co_await list_source_items(ctx);
    if (job.sources.size() > p.limits.max_items)
      throw Error(ErrorClass::invalid_input, std::to_string(job.sources.size()) + " items, over the limit of " +
                                                 std::to_string(p.limits.max_items) + " (limits.max_items)");
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
    job.result.items.resize(job.sources.size());
    for (std::size_t i = 0; i < job.sources.size(); ++i) {
      auto& item = job.result.items[i];
      item.index = i;
      item.name = job.sources[i].name;
      item.stem = sanitize_stem(item.name);
      // Nothing usable in the name (or no name): named after the job, never "" (a hidden
      // file) and never one shared name for every such image.
      if (item.stem.empty()) item.stem = "image_" + job.result.id.substr(0, 8);
      item.ext = extension_of(item.name);
    }
    auto ex = co_await asio::this_coro::executor;
    WaitGroup workers(ex);
    const auto n = std::min<std::size_t>(std::max(1, p.concurrency), job.sources.size());
    workers.add(static_cast<int>(n));
    for (std::size_t w = 0; w < n; ++w)
      asio::co_spawn(ex, run_worker(job), [&workers](std::exception_ptr) { workers.done(); });
    co_await workers.wait();

    job.result.status = job_status(p, job.result.items);
  }
  job.result.finished_at = host_.clock->now();
  if (host_.metrics) {
    host_.metrics->inc("imagepipe_jobs_total", {{"pipeline", p.name}, {"status", job.result.status}});
  }
  job.log->info("{} in {:.3f}s: {} item(s), {} failed", job.result.status,
                job.result.metrics()["duration_seconds"].get<double>(), job.result.items.size(),
                job.result.metrics()["failed"].get<std::size_t>());
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

Task<void> Engine::run_worker(JobState& job) {
  while (job.next < job.sources.size()) {
    const auto index = job.next++;
    co_await run_item(job, index);
    ++job.done;
    if (job.progress) job.progress(job.result.items[index], job.done, job.sources.size());
  }
}

namespace {

struct ChainOutcome {
  ProviderResult result;
};

}  // namespace

Task<void> Engine::run_item(JobState& job, std::size_t index) {
  const auto& p = *pipeline_;
  auto& item = job.result.items[index];
  const auto& source = job.sources[index];
  const auto started = host_.clock->steady_now();
  json scope = job.scope;
  scope["item"] = item_scope(item);
  ItemContext ctx{job.result.id, index, item.name, &scope, job.log};
  DecodeLimits limits{p.limits.max_image_pixels, p.limits.max_image_bytes};

  std::optional<Error> failure;
  try {
    std::vector<Artifact> artifacts;
    if (source.load) {
      auto bytes = co_await source.load();
      const auto info = probe_image(bytes, limits);
      scope["item"]["width"] = info.width;
      scope["item"]["height"] = info.height;
      // A provider is paid per call, and an image cut short would be paid for anyway (or
      // edited as its grey half): it is read whole first, on the CPU pool.
      if (!p.providers.empty())
        co_await host_.cpu->run([&bytes, &limits] { verify_image(bytes, limits); });
      artifacts.push_back(Artifact::from_bytes(std::move(bytes)));
    }

    // ---- provider chain ----
    for (std::size_t e = 0; e < p.providers.size(); ++e) {
      const auto& entry = p.providers[e];
      auto& provider = *instances_->providers[e];
      auto& gate = *instances_->gates[e];
      if (const auto& why = instances_->unconfigured[e];
          !why.empty() && e + 1 < p.providers.size()) {
        // Counted as a fall-through (the next entry did the work) but not reported as an
        // error: running without a key is how the deployment was configured.
        item.chain.push_back({{"provider", entry.plugin.use},
                              {"attempts", 0},
                              {"outcome", "skipped"},
                              {"reason", why},
                              {"seconds", 0}});
        ++item.fall_throughs;
        if (host_.metrics)
          host_.metrics->inc("imagepipe_provider_skipped_total", {{"provider", entry.plugin.use}});
        job.log->info("{}: {} skipped ({}), using {}", item.name, entry.plugin.use, why,
                      p.providers[e + 1].plugin.use);
        continue;
      }
      int entry_attempts = 0;
      double entry_seconds = 0;
      ProviderRequest request;
      request.prompt = p.prompt.render_string(scope);
      request.images = artifacts;
      request.params = entry.params.is_constant() && entry.params.raw().is_null() ? json::object()
                                                                                : entry.params.render(scope);
      if (request.params.is_null()) request.params = json::object();
      if (entry.plugin.descriptor) coerce_params(request.params, entry.plugin.descriptor->options_schema);
      request.item = &ctx;

      std::optional<Error> last;
      for (int attempt = 1;; ++attempt) {
        co_await gate.acquire();
        const auto t0 = host_.clock->steady_now();
        std::optional<ProviderResult> answer;
        last.reset();
        try {
          answer = co_await provider.run(request);
        } catch (const Error& err) {
          last = err;
        } catch (const std::exception& err) {
          last = Error(ErrorClass::internal, err.what());
        }
        gate.release();
        ++item.attempts;
        ++entry_attempts;
        const double call_seconds = duration<double>(host_.clock->steady_now() - t0).count();
        item.provider_seconds += call_seconds;
        entry_seconds += call_seconds;
        if (host_.metrics) {
          host_.metrics->inc("imagepipe_provider_calls_total",
                             {{"provider", entry.plugin.use},
                              {"outcome", answer ? "ok" : std::string(to_string(last->cls()))}});
          host_.metrics->observe("imagepipe_provider_call_seconds",
                                 {{"provider", entry.plugin.use}}, call_seconds);
        }
        if (answer) {
          item.provider = entry.plugin.use;
          if (!answer->usage.empty()) item.usage = answer->usage;
          if (host_.metrics) count_usage(*host_.metrics, entry.plugin.use, answer->usage);
          for (auto& image : answer->images)
            for (const auto& [k, v] : answer->metadata.items()) image.metadata[k] = v;
          artifacts = std::move(answer->images);
          if (artifacts.empty())
            throw Error(ErrorClass::internal, "provider '" + entry.plugin.use + "' returned no image");
          break;
        }
        const auto delay = backoff_delay(entry.retry.base_delay, entry.retry.max_delay, attempt,
                                          last->retry_after());
        // A 429 slows the whole entry down, every item and job behind this gate, rather
        // than each item retrying on its own schedule.
        if (last->cls() == ErrorClass::rate_limited)
          gate.pause_for(last->retry_after().value_or(delay));
        if (is_retryable(last->cls()) && attempt < entry.retry.max_attempts) {
          job.log->info("{}: {} from {} (attempt {}/{}), retrying in {} ms", item.name, to_string(last->cls()),
                        entry.plugin.use, attempt, entry.retry.max_attempts, delay.count());
          co_await host_.clock->sleep_for(delay);
          continue;
        }
        break;
      }
      item.chain.push_back(
          {{"provider", entry.plugin.use},
           {"attempts", entry_attempts},
           {"outcome", last ? std::string(to_string(last->cls())) : std::string("ok")},
           {"seconds", std::round(entry_seconds * 1000) / 1000}});
      if (!last) break;  // answered
      const bool can_fall_through = e + 1 < p.providers.size() && entry.fall_through_on.count(last->cls());
      if (!can_fall_through)
        throw Error(last->cls(), entry.plugin.use + ": " + last->what(), last->retry_after());
      ++item.fall_throughs;
      if (!entry.fall_through_note.raw().is_null()) {
        item.notes.push_back(entry.fall_through_note.render_string(scope));
      } else {
        item.notes.push_back(entry.plugin.use + " " + std::string(to_string(last->cls())) + " (" +
                             redact(last->what(), p.secrets) + ") -> fallback " +
                             p.providers[e + 1].plugin.use + " applied");
      }
      if (host_.metrics) host_.metrics->inc("imagepipe_fall_throughs_total", {{"provider", entry.plugin.use}});
      job.log->warn("{}: {} from {}, falling through to {}", item.name, to_string(last->cls()), entry.plugin.use,
                    p.providers[e + 1].plugin.use);
    }

    // ---- transforms (decode once, on the CPU pool) ----
    if (!instances_->transforms.empty()) {
      artifacts = co_await host_.cpu->run([this, &artifacts, &ctx, limits]() {
        std::vector<Artifact> current = std::move(artifacts);
        bool first = true;
        for (auto& transform : instances_->transforms) {
          std::vector<Artifact> next;
          for (auto& a : current) {
            if (transform->needs_pixels() && !a.pixels) {
              std::pair<int, int> hint{0, 0};
              if (first) hint = transform->min_decode_size(probe_image(*a.encoded, limits));
              a.pixels = decode_image(*a.encoded, limits, hint.first, hint.second);
            }
            auto encoding = a.encoding;
            auto metadata = a.metadata;
            for (auto& out : transform->apply(std::move(a), ctx)) {
              if (!out.encoding) out.encoding = encoding;
              for (const auto& [k, v] : metadata.items())
                if (!out.metadata.contains(k)) out.metadata[k] = v;
              next.push_back(std::move(out));
            }
          }
          if (transform->needs_pixels()) first = false;
          current = std::move(next);
        }
        return current;
      });
    }

    // ---- sink (encode once) ----
    for (std::size_t n = 0; n < artifacts.size(); ++n) {
      auto& a = artifacts[n];
      auto encoded = co_await host_.cpu->run([&a, limits]() {
        // Keep the bytes as they are unless a format was asked for and pixels changed or
        // the format differs: re-encoding an untouched JPEG only loses quality.
        const bool keep = a.encoded && !a.pixels && (!a.encoding || a.encoding->format == a.encoded_format);
        if (keep) return std::pair{a.encoded, a.encoded_format};
        if (!a.pixels) a.pixels = decode_image(*a.encoded, limits);
        EncodeSpec spec = a.encoding.value_or(EncodeSpec{});
        return std::pair{std::make_shared<const std::string>(encode_image(*a.pixels, spec)), spec.format};
      });
      ItemOutput out;
      out.mime = std::string(mime_type(encoded.second));
      out.ext = std::string(file_extension(encoded.second));
      out.bytes = encoded.first->size();
      if (a.pixels) {
        out.width = a.pixels->width;
        out.height = a.pixels->height;
      } else {
        auto info = probe_image(*encoded.first, limits);
        out.width = info.width;
        out.height = info.height;
      }
      out.metadata = a.metadata;
      a.pixels.reset();  // free memory before the upload

      json key_scope = scope;
      if (instances_->sink_storage || instances_->copy_storage) {
        key_scope["item"]["output_ext"] = out.ext;
        key_scope["output"] = {{"index", n},
                               {"count", artifacts.size()},
                               // "_1", "_2"... only when an item has several outputs (grid-split).
                               {"suffix", artifacts.size() > 1 ? "_" + std::to_string(n + 1) : ""},
                               {"ext", out.ext},
                               {"mime", out.mime},
                               {"id", new_job_id()},
                               {"width", out.width},
                               {"height", out.height}};
        key_scope["output"]["metadata"] = out.metadata;
      }
      if (instances_->sink_storage) {
        out.key = p.sink.key.render_string(key_scope);
        if (auto [it, fresh] = job.keys_written.emplace(out.key, index); !fresh)
          throw Error(ErrorClass::invalid_input,
                      "sink key '" + out.key + "' was already written by " +
                          (it->second == index ? std::string("this item")
                                               : "item " + std::to_string(it->second + 1) + " (" +
                                                     job.result.items[it->second].name + ")") +
                          " in this job; nothing was overwritten. Make sink.key unique per "
                          "result, e.g. with ${item.index} or ${output.suffix}");
        PutOptions put;
        put.content_type = out.mime;
        if (!p.sink.metadata.raw().is_null()) {
          auto rendered = p.sink.metadata.render(key_scope);
          for (const auto& [k, v] : rendered.items()) put.metadata[k] = v.is_string() ? v.get<std::string>() : v.dump();
        }
        co_await instances_->sink_storage->put(out.key, encoded.first, std::move(put));
        if (p.sink.url == SinkSpec::UrlMode::presigned) {
          out.url = co_await instances_->sink_storage->presign(out.key, p.sink.expires);
          out.expires_in = p.sink.expires.count();
        } else if (p.sink.url == SinkSpec::UrlMode::public_url) {
          out.url = instances_->sink_storage->public_url(out.key);
        }
        out.uri = storage_uri(job.result.sink, out.key);
      }
      if (instances_->copy_storage) {
        const std::string copy_key =
            out.key.empty() ? key_scope["item"].value("stem", "image") +
                                  key_scope["output"].value("suffix", "") + "." + out.ext
                            : out.key;
        PutOptions put;
        put.content_type = out.mime;
        const auto copy = storage_uri(instances_->copy_storage->location(), copy_key);
        if (copy != out.uri) {  // the sink may already be that very folder
          if (out.key.empty())
            if (auto [it, fresh] = job.keys_written.emplace("copy:" + copy_key, index); !fresh)
              throw Error(ErrorClass::invalid_input,
                          "local copy '" + copy_key + "' was already written by item " +
                              std::to_string(it->second + 1) + " in this job; nothing was overwritten");
          co_await instances_->copy_storage->put(copy_key, encoded.first, std::move(put));
          out.copy = copy;
        }
      }
      if (p.sink.inline_result || !instances_->sink_storage) out.data = encoded.first;
      item.outputs.push_back(std::move(out));
    }
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
