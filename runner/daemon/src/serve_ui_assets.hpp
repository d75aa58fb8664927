// The dashboard's files (runner/daemon/ui/), compiled into the binary by
// cmake/embed_assets.cmake: the daemon needs nothing installed beside it to serve /ui.
#pragma once

#include <string_view>
#include <vector>

namespace imagepipe::serve {

struct EmbeddedAsset {
  std::string_view name;  // path below runner/daemon/ui/: "index.html", "js/api.js"
  std::string_view bytes;
  std::string_view etag;  // quoted, as the ETag header carries it
};

extern const std::vector<EmbeddedAsset> kEmbeddedAssets;

}  // namespace imagepipe::serve
