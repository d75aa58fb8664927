#include "local_paths.hpp"

#include <algorithm>
#include <cctype>
#include <queue>

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

KeyPage list_keys(const std::filesystem::path& root, const std::string& prefix,
                  const std::string& after, std::size_t limit, bool sidecars) {
  namespace fs = std::filesystem;
  const std::string base = (root / "").generic_string();
  // Every key under the prefix lies under its folder part ("2026/11/" of "2026/11/2").
  fs::path start = root;
  if (const auto slash = prefix.rfind('/'); slash != std::string::npos) {
    try {
      start = resolve_key(root, prefix.substr(0, slash));
    } catch (const Error&) {
      // No key lies under a folder that escapes the root, or names the metadata folder.
      return {};
    }
  }
  std::error_code ec;
  if (!fs::is_directory(start, ec)) return {};
  // The smallest limit + 1 keys after `after`: a max-heap that drops its largest.
  std::priority_queue<std::string> smallest;
  const std::size_t keep = std::max<std::size_t>(limit, 1) + 1;
  for (auto it = fs::recursive_directory_iterator(start, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec) && it->path().filename() == kMetaDir) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    const auto path = it->path().generic_string();
    auto key = path.compare(0, base.size(), base) == 0
                   ? path.substr(base.size())
                   : fs::relative(it->path(), root).generic_string();
    if (key.find(".tmp-") != std::string::npos) continue;  // a write under way
    if (sidecars && is_sidecar_name(it->path())) continue;
    if (key.compare(0, prefix.size(), prefix) != 0 || key <= after) continue;
    if (smallest.size() == keep && key >= smallest.top()) continue;
    smallest.push(std::move(key));
    if (smallest.size() > keep) smallest.pop();
  }
  KeyPage page;
  page.keys.resize(smallest.size());
  for (auto i = smallest.size(); i-- > 0; smallest.pop()) page.keys[i] = smallest.top();
  if (page.keys.size() > std::max<std::size_t>(limit, 1)) {
    page.keys.pop_back();
    page.more = true;
  }
  return page;
}

}  // namespace imagepipe::local_storage
