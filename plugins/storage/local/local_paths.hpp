// Mapping object keys to files under a root without ever leaving it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace imagepipe::local_storage {

// Throws Error(invalid_input) for keys that are empty, absolute, contain "..", NUL or
// backslashes, or name the metadata folder: such keys could escape or shadow the root.
std::filesystem::path resolve_key(const std::filesystem::path& root, const std::string& key);

// Content type and metadata live beside the data in a hidden tree, so listings stay clean.
inline constexpr const char* kMetaDir = ".imagepipe-meta";
std::filesystem::path meta_path(const std::filesystem::path& root, const std::string& key);

// With `metadata_file: beside`, the metadata is `<key without its extension>.json` next to
// the object, as seed 004 keeps `{storage_id}.png` beside `{storage_id}.json`. A key that
// itself ends in `.json` (any case) is refused there: it would be, or overwrite, another
// object's metadata file.
bool is_sidecar_name(const std::filesystem::path& file);
// resolve_key(), and the refusal of `.json` names.
std::filesystem::path resolve_object_key(const std::filesystem::path& root, const std::string& key);
std::filesystem::path sidecar_path(const std::filesystem::path& root, const std::string& key);

// One page of keys under `prefix` after `after`, in byte order (as S3 lists): at most
// `limit`, and whether more follow. Walks only the prefix's folder and keeps at most
// `limit + 1` keys, so a page of a folder of 100,000 files costs one directory walk, not
// the whole listing in memory. `sidecars`: leave out `metadata_file: beside` files.
struct KeyPage {
  std::vector<std::string> keys;
  bool more = false;
};
KeyPage list_keys(const std::filesystem::path& root, const std::string& prefix,
                  const std::string& after, std::size_t limit, bool sidecars);

}  // namespace imagepipe::local_storage
