// Mapping object keys to files under a root without ever leaving it.
#pragma once

#include <filesystem>
#include <string>

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

}  // namespace imagepipe::local_storage
