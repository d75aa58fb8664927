#include "local_paths.hpp"

#include <cctype>

#include "imagepipe/error.hpp"

namespace imagepipe::local_storage {

std::filesystem::path resolve_key(const std::filesystem::path& root, const std::string& key) {
  auto refuse = [&](const std::string& why) {
    return Error(ErrorClass::invalid_input, "storage key '" + key + "' " + why);
  };
  if (key.empty()) throw refuse("is empty");
  if (key.front() == '/') throw refuse("is absolute");
  if (key.find('\0') != std::string::npos || key.find('\\') != std::string::npos)
    throw refuse("contains a NUL or backslash");
  std::filesystem::path relative;
  std::size_t start = 0;
  while (start <= key.size()) {
    auto end = key.find('/', start);
    if (end == std::string::npos) end = key.size();
    std::string part = key.substr(start, end - start);
    if (part == "..") throw refuse("escapes the storage root");
    if (!part.empty() && part != ".") {
      if (relative.empty() && part == kMetaDir) throw refuse("names the metadata folder");
      relative /= part;
    }
    start = end + 1;
  }
  if (relative.empty()) throw refuse("names no file");
  return root / relative;
}

std::filesystem::path meta_path(const std::filesystem::path& root, const std::string& key) {
  auto data = resolve_key(root, key);
  auto relative = std::filesystem::relative(data, root);
  return root / kMetaDir / (relative.string() + ".json");
}

bool is_sidecar_name(const std::filesystem::path& file) {
  std::string name = file.filename().string();
  if (name.size() < 5) return false;
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name.ends_with(".json");
}

std::filesystem::path resolve_object_key(const std::filesystem::path& root, const std::string& key) {
  auto path = resolve_key(root, key);
  if (is_sidecar_name(path))
    throw Error(ErrorClass::invalid_input,
                "storage key '" + key +
                    "' ends in .json, which local storage with `metadata_file: beside` keeps "
                    "for the metadata files beside the objects");
  return path;
}

std::filesystem::path sidecar_path(const std::filesystem::path& root, const std::string& key) {
  return resolve_object_key(root, key).replace_extension(".json");
}

}  // namespace imagepipe::local_storage
