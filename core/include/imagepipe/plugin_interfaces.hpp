// The five plugin kinds. Each factory receives options already validated against the
// plugin's JSON Schema with defaults filled in, and builds a cheap instance once per
// pipeline; instances are shared by all concurrent items and must be thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include "imagepipe/asio.hpp"
#include "imagepipe/error.hpp"
#include "imagepipe/image.hpp"

namespace imagepipe {

// What a stage knows about the item it is working on.
struct ItemContext {
  std::string job_id;
  std::size_t index = 0;
  std::string name;                   // file name of the input, or "item-N"
  const nlohmann::json* scope = nullptr;  // template scope: job, request, item, ...
  std::shared_ptr<spdlog::logger> log;    // every line carries the job id
};

// ---- providers -------------------------------------------------------------------------
struct ProviderRequest {
  std::string prompt;
  std::vector<Artifact> images;  // input images; empty for text-to-image
  std::optional<Artifact> mask;
  nlohmann::json params = nlohmann::json::object();  // per-request overrides from the pipeline
  const ItemContext* item = nullptr;
};

struct ProviderResult {
  std::vector<Artifact> images;
  // Operations that answer in words (a rewritten prompt): the text, and no images.
  std::optional<std::string> text;
  nlohmann::json usage = nlohmann::json::object();     // tokens/credits as the provider reported
  nlohmann::json metadata = nlohmann::json::object();  // revised_prompt, request id, model...
};

class Provider {
 public:
  virtual ~Provider() = default;
  // Throws imagepipe::Error with the class that best describes the failure.
  virtual Task<ProviderResult> run(ProviderRequest request) = 0;
};

// ---- transforms ------------------------------------------------------------------------
class Transform {
 public:
  virtual ~Transform() = default;
  // Runs on the CPU pool. When needs_pixels() the engine guarantees `in.pixels` is set.
  // Returns one artifact (most transforms) or many (grid-split).
  virtual std::vector<Artifact> apply(Artifact in, const ItemContext& item) = 0;
  virtual bool needs_pixels() const { return true; }
  // When this transform comes first, the smallest decode it can work from: JPEG can then
  // decode at 1/2, 1/4 or 1/8 scale (the fast path for thumbnails). {0, 0}: full size.
  virtual std::pair<int, int> min_decode_size(const ImageInfo& input) const {
    (void)input;
    return {0, 0};
  }
};

// ---- storage ---------------------------------------------------------------------------
struct ObjectInfo {
  std::string key;
  std::uint64_t size = 0;
  std::string content_type;
  std::string etag;
  std::chrono::system_clock::time_point last_modified{};
  std::map<std::string, std::string> metadata;
};

struct PutOptions {
  std::string content_type;
  std::map<std::string, std::string> metadata;
};

struct ListPage {
  std::vector<ObjectInfo> objects;
  std::string next_token;  // empty: last page
};

class Storage {
 public:
  virtual ~Storage() = default;
  virtual Task<ObjectInfo> put(std::string key, std::shared_ptr<const std::string> data,
                               PutOptions options) = 0;
  virtual Task<std::string> get(std::string key) = 0;  // Error(not_found) when absent
  virtual Task<ObjectInfo> head(std::string key) = 0;
  virtual Task<ListPage> list(std::string prefix, std::string token, int max_keys) = 0;
  virtual Task<void> remove(std::string key) = 0;
  // A URL that grants read access until `expires`; empty when the store cannot sign.
  virtual Task<std::string> presign(std::string key, std::chrono::seconds expires) = 0;
  // A permanent URL from a configured base (CDN); empty when none is configured.
  virtual std::string public_url(const std::string& key) const { (void)key; return {}; }
  // Where objects go, without secrets (bucket, container, root...): for templates and
  // configuration pages.
  virtual nlohmann::json location() const { return nlohmann::json::object(); }
};

// ---- notifiers -------------------------------------------------------------------------
struct Notification {
  std::string job_id;
  const nlohmann::json* scope = nullptr;  // job, request, items, metrics, sink
  std::shared_ptr<spdlog::logger> log;
};

class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual Task<void> notify(const Notification& n) = 0;
};

// ---- guards ----------------------------------------------------------------------------
// A guard reads what is about to be sent to a provider, before any money is spent:
// a blocklist, a moderation service. Called once per distinct prompt of an item.
struct GuardRequest {
  std::string prompt;
  const ItemContext* item = nullptr;
};

struct GuardVerdict {
  bool allowed = true;
  std::string reason;  // why it was refused, for the item's error: "blocked word 'x'"
  nlohmann::json details = nlohmann::json::object();  // categories, scores...
};

class Guard {
 public:
  virtual ~Guard() = default;
  // Throws Error when the guard itself cannot decide (a moderation service down): the
  // item then fails with that class instead of passing unchecked.
  virtual Task<GuardVerdict> check(GuardRequest request) = 0;
};

}  // namespace imagepipe
