// The engine's parts shared by its files: the plugin instances of a pipeline, the state of
// one running job, and the per-item work of a step (provider call, transforms) and of the
// sink. Everything here runs on the job's strand unless it says otherwise.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "imagepipe/engine.hpp"
#include "imagepipe/pixel_budget.hpp"
#include "imagepipe/plugin_interfaces.hpp"
#include "provider_gate.hpp"
#include "sources.hpp"

namespace imagepipe::detail {

// The instances of one alternative of a step.
struct ActionInstances {
  std::vector<std::unique_ptr<Provider>> providers;
  std::vector<std::unique_ptr<ProviderGate>> gates;
  // Per chain entry: why it is not configured (every secret option empty), else empty.
  std::vector<std::string> unconfigured;
  std::vector<std::unique_ptr<Transform>> transforms;
};

struct Instances {
  std::vector<std::vector<ActionInstances>> steps;  // per step, per alternative
  std::unique_ptr<Storage> source_storage;
  std::unique_ptr<Storage> sink_storage;
  std::unique_ptr<Storage> copy_storage;
  std::vector<std::unique_ptr<Notifier>> notifiers;
  std::vector<std::unique_ptr<Guard>> guards;
};

struct JobState {
  JobResult result;
  JobRequest request;
  nlohmann::json scope;  // job, request, now, sink: the part every item shares
  std::unique_ptr<ItemSource> source;
  std::size_t total = 0;  // the source's count
  std::size_t next = 0;   // the index the next item taken gets
  std::size_t done = 0;
  bool cancelled = false;  // a worker saw the request cancelled: the rest are not started
  // Why the job stopped part way (its listing or its item sink failed): no item starts after.
  std::optional<Error> failure;
  ItemSink* items = nullptr;
  // Sink keys written by this job, by a 64-bit hash of each (16 bytes a key, where the keys
  // themselves would cost ~100 in a batch of 100,000), with the item that wrote it: a second
  // item rendering the same key fails instead of overwriting the first one's result.
  std::unordered_map<std::uint64_t, std::size_t> keys_written;
  ProgressFn progress;
  std::shared_ptr<spdlog::logger> log;
};

// What one item's steps work with.
struct ItemWork {
  const Pipeline& pipeline;
  const Host& host;
  JobState& job;
  ItemResult& item;
  nlohmann::json& scope;  // the item's template scope; steps.NAME grows as steps finish
  const ItemContext& context;
  DecodeLimits limits;
  std::vector<std::unique_ptr<Guard>>* guards = nullptr;
  std::set<std::string> cleared_prompts;  // already passed every guard for this item
  // The decoded pixels this item's images hold (Host::pixels counts them).
  std::shared_ptr<PixelAccount> pixels_held = std::make_shared<PixelAccount>();
};

// Runs the pipeline's guards on a prompt about to be sent; throws Error(content_policy)
// naming the guard and its reason when one refuses.
Task<void> check_guards(ItemWork& work, const std::string& prompt);

// A result image and the step it came from.
struct StepImage {
  std::size_t step = 0;
  std::size_t index = 0;  // within the step's images
  std::size_t count = 0;  // the step's images
  Artifact artifact;
};

// Runs a provider step for one item: `runs` calls (concurrently), each through the
// alternative's fallback chain with retries. Throws Error when a call fails for good.
// Appends to item.chain, item.notes and the counters; `record` gets the step's record.
Task<std::vector<Artifact>> run_provider_step(ItemWork& work, const Step& step,
                                              const StepAction& action, ActionInstances& instances,
                                              std::vector<Artifact> inputs, nlohmann::json& record);

// Runs a transforms step for one item on the CPU pool, each input image through the
// transforms in order. `first_decode` allows the first transform's reduced decode.
Task<std::vector<Artifact>> run_transform_step(ItemWork& work, ActionInstances& instances,
                                               std::vector<Artifact> inputs, bool first_decode);

// Encodes and stores one item's results, filling item.outputs.
Task<void> write_results(ItemWork& work, Instances& instances, std::vector<StepImage> images);

std::string redact(std::string text, const std::vector<std::string>& secrets);
// Sums numeric fields of `from` into `into`, objects recursively.
void add_usage(nlohmann::json& into, const nlohmann::json& from);

}  // namespace imagepipe::detail
