// The source stage: turns a pipeline's `source:` block and a request into items, taken one
// at a time. A storage source is listed a page at a time as items are taken, so a batch of
// 100,000 objects never holds its whole listing; every item's bytes are loaded when it runs.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "imagepipe/engine.hpp"

namespace imagepipe {

struct SourceItem {
  std::string name;    // file name, for keys and messages
  std::string origin;  // path, storage key or URL (for the summary)
  std::function<Task<std::string>()> load;  // empty: no input image (text-to-image)
};

struct SourceContext {
  const Pipeline& pipeline;
  const JobRequest& request;
  const nlohmann::json& scope;
  Storage* storage = nullptr;  // the source's storage instance, for from: storage
  HttpClient* http = nullptr;
  std::uint64_t max_bytes = 0;
};

// A job's items in order, listed as they are taken.
class ItemSource {
 public:
  virtual ~ItemSource() = default;
  // How many items the source holds: a storage source counts its objects when opened.
  virtual std::size_t size() const = 0;
  // The next item; nullopt after the last. Throws Error when the listing fails part way.
  // Called from the job's strand only.
  virtual Task<std::optional<SourceItem>> next() = 0;
  // Waits for a listing still under way in the background; before the source goes.
  virtual Task<void> close() { co_return; }
};

// Throws Error(invalid_input / not_found / ...) when the source itself cannot be read, or
// holds more items than the pipeline's max_items (before any item runs).
Task<std::unique_ptr<ItemSource>> open_source(const SourceContext& ctx);

// `from: storage`: the objects under the rendered prefix whose names `extensions` accepts.
Task<std::unique_ptr<ItemSource>> open_storage_source(const SourceContext& ctx);

// Whether a file or object name is an item under a source's `extensions` list.
// A file name's extension after its last dot, lower-cased; "" when it has none.
std::string extension_of(const std::string& name);

bool accepted_name(const std::string& name, const std::vector<std::string>& extensions);

// "data:image/png;base64,AAAA" or raw base64 → bytes. Throws Error(invalid_input) naming
// the field.
std::string decode_base64_field(std::string_view value, std::string_view field);

}  // namespace imagepipe
