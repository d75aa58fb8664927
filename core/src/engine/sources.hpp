// The source stage: turns a pipeline's `source:` block and a request into items. Items
// are listed eagerly but their bytes are loaded lazily, item by item.
#pragma once

#include <functional>
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

// Throws Error(invalid_input / not_found / ...) when the source itself cannot be read.
Task<std::vector<SourceItem>> list_source_items(const SourceContext& ctx);

// "data:image/png;base64,AAAA" or raw base64 → bytes. Throws Error(invalid_input) naming
// the field.
std::string decode_base64_field(std::string_view value, std::string_view field);

}  // namespace imagepipe
