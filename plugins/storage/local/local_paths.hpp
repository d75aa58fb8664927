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

}  // namespace imagepipe::local_storage
