#include "local_paths.hpp"

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

}  // namespace imagepipe::local_storage
