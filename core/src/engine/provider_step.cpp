// A provider step for one item: its calls through the alternative's fallback chain, with
// retries, rate limits and fall-throughs, each recorded on the item.
#include <cmath>

#include "engine_parts.hpp"
#include "imagepipe/logging.hpp"
#include "imagepipe/retry.hpp"
#include "typed_params.hpp"
#include "wait_group.hpp"

namespace imagepipe::detail {

namespace {

using nlohmann::json;
using namespace std::chrono;

constexpr long long kMaxRuns = 100;

// Numeric usage fields as Prometheus counters: tokens, credits, megapixels.
void count_usage(Metrics& metrics, const std::string& provider, const json& usage) {
  for (const auto& [k, v] : usage.items())
    if (v.is_number())
      metrics.inc("imagepipe_provider_usage_total", {{"provider", provider}, {"kind", k}},
                  v.get<double>());
}

// How many calls the step makes for this item: `runs` as an integer, or with `per_run`
// the images wanted divided by the images one call yields, rounded up.
int call_count(const Step& step, const json& scope) {
  if (!step.runs) return 1;
  json value = step.runs->render(scope);
  if (value.is_string()) {
    const std::string text = value.get<std::string>();
    try {
      std::size_t used = 0;
      const long long parsed = std::stoll(text, &used);
      if (used == text.size()) value = parsed;
    } catch (const std::exception&) {
    }
  }
  const std::string what = step.per_run ? "images wanted" : "runs";
  if (!value.is_number_integer())
    throw Error(ErrorClass::invalid_input,
                "step '" + step.name + "': " + what + " must be an integer, got " +
                    (value.is_string() ? "'" + value.get<std::string>() + "'" : value.dump()));
  const long long n = value.get<long long>();
  const long long runs = step.per_run ? (n + step.per_run - 1) / step.per_run : n;
  if (n < 1 || runs > kMaxRuns)
    throw Error(ErrorClass::invalid_input,
                "step '" + step.name + "': " + what + " must be 1.." +
                    std::to_string(step.per_run ? kMaxRuns * step.per_run : kMaxRuns) + ", got " +
                    std::to_string(n));
  return static_cast<int>(runs);
}

// Providers read encoded bytes: an image a transform left as pixels is encoded first (in
// the format it asked for, else PNG), on the CPU pool.
Task<void> encode_inputs(ItemWork& work, std::vector<Artifact>& inputs) {
  const bool all_encoded = std::all_of(inputs.begin(), inputs.end(),
                                       [](const Artifact& a) { return a.encoded && !a.pixels; });
  if (all_encoded) co_return;
  co_await work.host.cpu->run([&inputs] {
    for (auto& a : inputs) {
      if (!a.pixels) continue;
      const EncodeSpec spec = a.encoding.value_or(EncodeSpec{});
      a.encoded = std::make_shared<const std::string>(encode_image(*a.pixels, spec));
      a.encoded_format = spec.format;
      a.pixels.reset();
    }
  });
}

struct CallRecord {
  std::string provider;
  std::optional<std::string> text;
  json usage = json::object();
  json metadata = json::object();
};

class ChainCall {
 public:
  ChainCall(ItemWork& work, const Step& step, const StepAction& action, ActionInstances& instances)
      : work_(work), step_(step), action_(action), instances_(instances) {}

  // One call of the step: the chain's entries in turn until one answers.
  Task<std::vector<Artifact>> run(const std::vector<Artifact>& inputs, CallRecord& record) {
    const auto& entries = action_.providers;
    auto& item = work_.item;
    for (std::size_t e = 0; e < entries.size(); ++e) {
      const auto& entry = entries[e];
      if (const auto& why = instances_.unconfigured[e]; !why.empty() && e + 1 < entries.size()) {
        skip(entry, why, entries[e + 1]);
        continue;
      }
      ProviderRequest request = make_request(entry, inputs);
      std::optional<Error> last;
      int entry_attempts = 0;
      double entry_seconds = 0;
      std::optional<ProviderResult> answer =
          co_await call_with_retries(e, request, last, entry_attempts, entry_seconds);
      item.chain.push_back(
          {{"step", step_.name},
           {"provider", entry.plugin.use},
           {"attempts", entry_attempts},
           {"outcome", last ? std::string(to_string(last->cls())) : std::string("ok")},
           {"seconds", std::round(entry_seconds * 1000) / 1000}});
      if (answer) {
        record.provider = entry.plugin.use;
        record.usage = answer->usage;
        record.metadata = answer->metadata;
        record.text = answer->text;
        if (work_.host.metrics) count_usage(*work_.host.metrics, entry.plugin.use, answer->usage);
        for (auto& image : answer->images)
          for (const auto& [k, v] : answer->metadata.items()) image.metadata[k] = v;
        if (answer->images.empty() && !answer->text)
          throw Error(ErrorClass::internal,
                      "provider '" + entry.plugin.use + "' returned no image");
        co_return std::move(answer->images);
      }
      const bool can_fall_through =
          e + 1 < entries.size() && entry.fall_through_on.count(last->cls());
      if (!can_fall_through)
        throw Error(last->cls(), entry.plugin.use + ": " + last->what(), last->retry_after());
      fall_through(entry, *last, entries[e + 1]);
    }
    throw Error(ErrorClass::internal, "step '" + step_.name + "': no provider answered");
  }

 private:
  ProviderRequest make_request(const ProviderEntry& entry, const std::vector<Artifact>& inputs) {
    ProviderRequest request;
    request.prompt =
        (step_.prompt ? *step_.prompt : work_.pipeline.prompt).render_string(work_.scope);
    request.images = inputs;
    request.params = entry.params.is_constant() && entry.params.raw().is_null()
                         ? json::object()
                         : entry.params.render(work_.scope);
    if (request.params.is_null()) request.params = json::object();
    if (entry.plugin.descriptor)
      coerce_params(request.params, entry.plugin.descriptor->options_schema);
    request.item = &work_.context;
    return request;
  }

  // Counted as a fall-through (the next entry did the work) but not reported as an
  // error: running without a key is how the deployment was configured.
  void skip(const ProviderEntry& entry, const std::string& why, const ProviderEntry& next) {
    work_.item.chain.push_back({{"step", step_.name},
                                {"provider", entry.plugin.use},
                                {"attempts", 0},
                                {"outcome", "skipped"},
                                {"reason", why},
                                {"seconds", 0}});
    ++work_.item.fall_throughs;
    if (work_.host.metrics)
      work_.host.metrics->inc("imagepipe_provider_skipped_total", {{"provider", entry.plugin.use}});
    work_.job.log->info("{}: {} skipped ({}), using {}", work_.item.name, entry.plugin.use, why,
                        next.plugin.use);
  }

  void fall_through(const ProviderEntry& entry, const Error& last, const ProviderEntry& next) {
    auto& item = work_.item;
    ++item.fall_throughs;
    if (!entry.fall_through_note.raw().is_null()) {
      item.notes.push_back(entry.fall_through_note.render_string(work_.scope));
    } else {
      item.notes.push_back(entry.plugin.use + " " + std::string(to_string(last.cls())) + " (" +
                           redact(last.what(), work_.pipeline.secrets) + ") -> fallback " +
                           next.plugin.use + " applied");
    }
    if (work_.host.metrics)
      work_.host.metrics->inc("imagepipe_fall_throughs_total", {{"provider", entry.plugin.use}});
    work_.job.log->warn("{}: {} from {}, falling through to {}", item.name, to_string(last.cls()),
                        entry.plugin.use, next.plugin.use);
  }

  Task<std::optional<ProviderResult>> call_with_retries(std::size_t e,
                                                        const ProviderRequest& request,
                                                        std::optional<Error>& last, int& attempts,
                                                        double& seconds) {
    const auto& entry = action_.providers[e];
    auto& provider = *instances_.providers[e];
    auto& gate = *instances_.gates[e];
    const auto& host = work_.host;
    for (int attempt = 1;; ++attempt) {
      const auto lease = co_await gate.acquire();
      const auto t0 = host.clock->steady_now();
      std::optional<ProviderResult> answer;
      last.reset();
      try {
        answer = co_await provider.run(request);
      } catch (const Error& err) {
        last = err;
      } catch (const std::exception& err) {
        last = Error(ErrorClass::internal, err.what());
      }
      gate.release(lease);
      ++work_.item.attempts;
      ++attempts;
      const double call_seconds = duration<double>(host.clock->steady_now() - t0).count();
      work_.item.provider_seconds += call_seconds;
      seconds += call_seconds;
      if (host.metrics) {
        host.metrics->inc("imagepipe_provider_calls_total",
                          {{"provider", entry.plugin.use},
                           {"outcome", answer ? "ok" : std::string(to_string(last->cls()))}});
        host.metrics->observe("imagepipe_provider_call_seconds", {{"provider", entry.plugin.use}},
                              call_seconds);
      }
      if (answer) co_return answer;
      const auto delay = backoff_delay(entry.retry.base_delay, entry.retry.max_delay, attempt,
                                       last->retry_after());
      // A 429 slows the whole entry down, every item and job behind this gate, rather
      // than each item retrying on its own schedule.
      if (last->cls() == ErrorClass::rate_limited)
        gate.pause_for(last->retry_after().value_or(delay));
      if (!is_retryable(last->cls()) || attempt >= entry.retry.max_attempts) co_return std::nullopt;
      work_.job.log->info("{}: {} from {} (attempt {}/{}), retrying in {} ms", work_.item.name,
                          to_string(last->cls()), entry.plugin.use, attempt,
                          entry.retry.max_attempts, delay.count());
      co_await host.clock->sleep_for(delay);
    }
  }

  ItemWork& work_;
  const Step& step_;
  const StepAction& action_;
  ActionInstances& instances_;
};

}  // namespace

Task<void> check_guards(ItemWork& work, const std::string& prompt) {
  if (!work.guards || work.guards->empty() || work.cleared_prompts.count(prompt)) co_return;
  for (std::size_t g = 0; g < work.guards->size(); ++g) {
    const auto& use = work.pipeline.guards[g];
    GuardRequest request{prompt, &work.context};
    GuardVerdict verdict;
    try {
      verdict = co_await (*work.guards)[g]->check(std::move(request));
    } catch (const Error& e) {
      throw Error(e.cls(), "guard '" + use.use + "': " + e.what(), e.retry_after());
    }
    if (verdict.allowed) continue;
    if (work.host.metrics)
      work.host.metrics->inc("imagepipe_guard_refusals_total",
                             {{"pipeline", work.pipeline.name}, {"guard", use.use}});
    work.job.log->info("{}: guard {} refused the prompt: {}", work.item.name, use.use, verdict.reason);
    throw Error(ErrorClass::content_policy, "refused by guard '" + use.use + "': " + verdict.reason);
  }
  work.cleared_prompts.insert(prompt);
}

Task<std::vector<Artifact>> run_provider_step(ItemWork& work, const Step& step,
                                              const StepAction& action, ActionInstances& instances,
                                              std::vector<Artifact> inputs, json& record) {
  const int runs = call_count(step, work.scope);
  co_await check_guards(work, (step.prompt ? *step.prompt : work.pipeline.prompt).render_string(work.scope));
  co_await encode_inputs(work, inputs);
  const auto attempts_before = work.item.attempts;
  ChainCall chain(work, step, action, instances);
  std::vector<CallRecord> records(static_cast<std::size_t>(runs));
  std::vector<std::vector<Artifact>> images(records.size());
  if (runs == 1) {
    images[0] = co_await chain.run(inputs, records[0]);
  } else {
    // The calls of one step overlap: an 8-image avatar waits for its two grids at once.
    auto ex = co_await asio::this_coro::executor;
    WaitGroup calls(ex);
    std::vector<std::exception_ptr> failures(records.size());
    calls.add(runs);
    for (std::size_t r = 0; r < records.size(); ++r)
      asio::co_spawn(
          ex, [&, r]() -> Task<void> { images[r] = co_await chain.run(inputs, records[r]); },
          [&, r](std::exception_ptr failure) {
            failures[r] = failure;
            calls.done();
          });
    co_await calls.wait();
    for (auto& failure : failures)
      if (failure) std::rethrow_exception(failure);
  }
  std::vector<Artifact> out;
  json usage = json::object();
  for (std::size_t r = 0; r < records.size(); ++r) {
    add_usage(usage, records[r].usage);
    for (auto& image : images[r]) out.push_back(std::move(image));
  }
  record["provider"] = records.back().provider;
  if (records.front().text) {
    // A step that answers in words passes its input images on: an edit after a prompt
    // rewrite still edits the item's image.
    record["text"] = *records.front().text;
    if (out.empty()) out = std::move(inputs);
  }
  if (runs > 1) record["runs"] = runs;
  record["attempts"] = work.item.attempts - attempts_before;
  if (!usage.empty()) record["usage"] = usage;
  if (!records.front().metadata.empty()) record["metadata"] = records.front().metadata;
  work.item.provider = records.back().provider;
  add_usage(work.item.usage, usage);
  co_return out;
}

}  // namespace imagepipe::detail
