// Storage `local`: a directory on this machine. Writes are atomic (temporary file, then
// rename) and every file operation runs on the CPU pool so the I/O threads never block.
#include <algorithm>
#include <ctime>
#include <fstream>
#include <mutex>
#include <random>

#include "imagepipe/http.hpp"
#include "imagepipe/plugin.hpp"
#include "imagepipe/signing.hpp"
#include "local_paths.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace imagepipe {
namespace {

constexpr const char* kRoot = "root";
constexpr const char* kCreate = "create";
constexpr const char* kPublicBaseUrl = "public_base_url";
constexpr const char* kUrlBase = "url_base";
constexpr const char* kUrlSecret = "url_secret";
constexpr const char* kMetadataFile = "metadata_file";
constexpr const char* kHidden = "hidden";
constexpr const char* kBeside = "beside";

// Fields of a metadata file (one shape in either place).
constexpr const char* kFieldKey = "key";
constexpr const char* kFieldContentType = "content_type";
constexpr const char* kFieldSize = "size";
constexpr const char* kFieldCreatedAt = "created_at";
constexpr const char* kFieldMetadata = "metadata";

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw Error(ErrorClass::not_found, "no such object: " + p.filename().string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_atomic(const fs::path& p, std::string_view data) {
  fs::create_directories(p.parent_path());
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  auto tmp = p;
  tmp += ".tmp-" + std::to_string(rng());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw Error(ErrorClass::unavailable, "cannot write " + p.string());
    }
  }
  fs::rename(tmp, p);
}

std::string utc_iso8601(std::chrono::system_clock::time_point t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// The metadata file, or null when there is none or it is not a JSON object (a file someone
// else put there).
json read_meta_file(const fs::path& p) {
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return nullptr;
  std::ifstream in(p, std::ios::binary);
  auto meta = json::parse(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(),
                          nullptr, false);
  return meta.is_object() ? meta : json(nullptr);
}

class LocalStorage final : public Storage {
 public:
  LocalStorage(const PluginArgs& args)
      : host_(args.host),
        root_(fs::absolute(args.options.at(kRoot).get<std::string>()).lexically_normal()),
        public_base_(args.options.value(kPublicBaseUrl, "")),
        link_base_(args.options.value(kUrlBase, "")),
        link_secret_(args.options.value(kUrlSecret, "")),
        beside_(args.options.value(kMetadataFile, kHidden) == kBeside) {
    if (!link_base_.empty() && link_secret_.empty())
      throw Error(ErrorClass::invalid_input, "url_base needs url_secret to sign links with");
    while (!link_base_.empty() && link_base_.back() == '/') link_base_.pop_back();
    std::error_code ec;
    if (args.options.at(kCreate).get<bool>()) fs::create_directories(root_, ec);
    if (!fs::is_directory(root_))
      throw Error(ErrorClass::not_found, "storage root " + root_.string() + " is not a directory");
  }

  Task<ObjectInfo> put(std::string key, std::shared_ptr<const std::string> data, PutOptions options) override {
    co_return co_await host_.cpu->run([&]() {
      auto path = object_path(key);
      const auto meta_file = meta_path(key);
      json meta = {{kFieldKey, key_of(path)},
                   {kFieldContentType, options.content_type},
                   {kFieldSize, data->size()},
                   {kFieldCreatedAt, utc_iso8601(host_.clock ? host_.clock->now()
                                                             : std::chrono::system_clock::now())},
                   {kFieldMetadata, options.metadata}};
      // Beside the objects, a.png and a.jpg would share a.json: the second is refused
      // while the first is there, rather than taking its metadata.
      std::unique_lock lock(sidecars_, std::defer_lock);
      if (beside_) {
        lock.lock();
        const auto owner = owner_of(meta_file);
        if (!owner.empty() && owner != key_of(path) && object_exists(owner))
          throw Error(ErrorClass::invalid_input,
                      "storage key '" + key + "' would share its metadata file " +
                          key_of(meta_file) + " with '" + owner +
                          "': with `metadata_file: beside`, objects in one folder need "
                          "different names before the extension");
      }
      write_atomic(path, *data);
      write_atomic(meta_file, meta.dump(2) + "\n");
      return info_for(key, path);
    });
  }

  Task<std::string> get(std::string key) override {
    co_return co_await host_.cpu->run([&]() {
      auto path = object_path(key);
      if (!fs::is_regular_file(path)) throw Error(ErrorClass::not_found, "no object '" + key + "' in " + root_.string());
      return read_all(path);
    });
  }

  Task<ObjectInfo> head(std::string key) override {
    co_return co_await host_.cpu->run([&]() {
      auto path = object_path(key);
      if (!fs::is_regular_file(path)) throw Error(ErrorClass::not_found, "no object '" + key + "' in " + root_.string());
      return info_for(key, path);
    });
  }

  Task<ListPage> list(std::string prefix, std::string token, int max_keys) override {
    co_return co_await host_.cpu->run([&]() {
      // The token is the last key returned.
      const auto keys = local_storage::list_keys(
          root_, prefix, token, static_cast<std::size_t>(std::max(1, max_keys)), beside_);
      ListPage page;
      for (const auto& key : keys.keys) page.objects.push_back(info_for(key, root_ / key));
      if (keys.more) page.next_token = keys.keys.back();
      return page;
    });
  }

  Task<void> remove(std::string key) override {
    co_await host_.cpu->run([&]() {
      auto path = object_path(key);
      const auto meta_file = meta_path(key);
      std::unique_lock lock(sidecars_, std::defer_lock);
      if (beside_) lock.lock();
      std::error_code ec;
      if (!fs::remove(path, ec)) throw Error(ErrorClass::not_found, "no object '" + key + "' in " + root_.string());
      // Beside, a.json may describe a.jpg, not the a.png being removed.
      const auto owner = beside_ ? owner_of(meta_file) : std::string();
      if (owner.empty() || owner == key_of(path)) fs::remove(meta_file, ec);
    });
  }

  // With url_base, a link `imagepipe serve` answers (GET /files/<pipeline>/<key>) until it
  // expires; without, the file's own URL, which is all a one-shot run can offer.
  Task<std::string> presign(std::string key, std::chrono::seconds expires) override {
    const auto path = object_path(key);
    if (link_base_.empty()) co_return "file://" + path.string();
    const std::int64_t until =
        std::chrono::duration_cast<std::chrono::seconds>(
            (host_.clock->now() + expires).time_since_epoch())
            .count();
    co_return link_base_ + "/" + url_encode(key, true) + "?expires=" + std::to_string(until) +
        "&signature=" + storage_link_signature(link_secret_, key, until);
  }

  std::string public_url(const std::string& key) const override {
    if (public_base_.empty()) return {};
    return public_base_ + (public_base_.back() == '/' ? "" : "/") + key;
  }

  json location() const override { return {{"storage", "local"}, {"root", root_.string()}}; }

 private:
  fs::path object_path(const std::string& key) const {
    return beside_ ? local_storage::resolve_object_key(root_, key)
                   : local_storage::resolve_key(root_, key);
  }
  fs::path meta_path(const std::string& key) const {
    return beside_ ? local_storage::sidecar_path(root_, key) : local_storage::meta_path(root_, key);
  }
  // The key as the root sees it ("a/./b.png" is "a/b.png").
  std::string key_of(const fs::path& path) const {
    return path.lexically_relative(root_).generic_string();
  }
  // The name comes from a file: it is checked like any key before it is looked at.
  bool object_exists(const std::string& key) const {
    try {
      return fs::is_regular_file(local_storage::resolve_key(root_, key));
    } catch (const Error&) {
      return false;
    }
  }
  // The object a metadata file says it describes; empty when it says none.
  static std::string owner_of(const fs::path& meta_file) {
    const auto meta = read_meta_file(meta_file);
    if (meta.is_null()) return {};
    const auto it = meta.find(kFieldKey);
    return it != meta.end() && it->is_string() ? it->get<std::string>() : std::string();
  }

  ObjectInfo info_for(const std::string& key, const fs::path& path) const {
    ObjectInfo info;
    info.key = key;
    std::error_code ec;
    info.size = fs::file_size(path, ec);
    auto mtime = fs::last_write_time(path, ec);
    info.last_modified = std::chrono::time_point_cast<std::chrono::system_clock::duration>(
        std::chrono::file_clock::to_sys(mtime));
    const auto meta = read_meta_file(meta_path(key));
    if (meta.is_null()) return info;
    // Beside, a.json may describe a.jpg rather than this a.png (files written before the
    // option, or by hand): only a file that names this key, or no key, is this one's.
    if (auto owner = meta.find(kFieldKey);
        owner != meta.end() && owner->is_string() && owner->get<std::string>() != key_of(path))
      return info;
    if (auto type = meta.find(kFieldContentType); type != meta.end() && type->is_string())
      info.content_type = type->get<std::string>();
    if (auto fields = meta.find(kFieldMetadata); fields != meta.end() && fields->is_object())
      for (const auto& [k, v] : fields->items())
        if (v.is_string()) info.metadata[k] = v.get<std::string>();
    return info;
  }

  const Host& host_;
  fs::path root_;
  std::string public_base_;
  std::string link_base_;
  std::string link_secret_;
  bool beside_;
  std::mutex sidecars_;  // a.png and a.jpg checking and writing the same a.json
};

}  // namespace
}  // namespace imagepipe

IMAGEPIPE_PLUGIN_SELF() {
  using namespace imagepipe;
  PluginDescriptor d;
  d.version = "1.0.0";
  d.summary = "A directory on this machine.";
  d.description =
      "Objects are files under `root`; keys map to relative paths and can never escape the root "
      "(`..`, absolute paths and backslashes are refused). Content type and metadata are kept in a "
      "JSON file per object: in a hidden `.imagepipe-meta` folder, or with `metadata_file: beside` "
      "as `<key without its extension>.json` next to the object. Writes are atomic.";
  d.options_schema = {
      {"type", "object"},
      {"additionalProperties", false},
      {"required", {kRoot}},
      {"properties",
       {{kRoot, {{"type", "string"}, {"minLength", 1}, {"description", "Directory that holds the objects."},
                 {"examples", {"./out", "/var/lib/imagepipe/results"}}}},
        {kCreate, {{"type", "boolean"}, {"default", true}, {"description", "Create the directory when missing."}}},
        {kPublicBaseUrl,
         {{"type", "string"}, {"description", "Base URL under which the root is served, for `url: public`."},
          {"examples", {"https://cdn.example.com/images"}}}},
        {kUrlBase,
         {{"type", "string"},
          {"description",
           "Where `imagepipe serve` answers this pipeline's files, for `url: presigned`: "
           "`<daemon URL>/files/<pipeline name>`. Links carry an expiry and an HMAC signature "
           "made with `url_secret`; without `url_base`, presigned URLs are `file://` URLs."},
          {"examples", {"http://localhost:8000/files/local-edit"}}}},
        {kUrlSecret,
         {{"type", "string"},
          {"minLength", 16},
          {"writeOnly", true},
          {"description", "Secret that signs the links under `url_base` (at least 16 characters)."},
          {"examples", {"${IMAGEPIPE_URL_SECRET}"}}}},
        {kMetadataFile,
         {{"type", "string"},
          {"enum", {kHidden, kBeside}},
          {"default", kHidden},
          {"description",
           "Where each object's metadata file goes. `hidden`: `<root>/.imagepipe-meta/<key>.json`, "
           "out of sight. `beside`: `<key without its extension>.json` next to the object "
           "(`2026/11/21/abc.png` and `2026/11/21/abc.json`), for people and tools that read "
           "the folder; listings leave those files out, and keys ending in `.json` are "
           "refused. Either file holds `key`, `content_type`, `size` (bytes), `created_at` "
           "(UTC, ISO 8601) and `metadata` (the sink's metadata, as strings)."},
          {"examples", {kBeside}}}}}},
      {"dependencies", {{kUrlBase, {kUrlSecret}}}}};
  d.examples = {{{kRoot, "./out"}}, {{kRoot, "./generated_images"}, {kMetadataFile, kBeside}}};
  d.factory = StorageFactory{[](const PluginArgs& args) { return std::make_unique<LocalStorage>(args); }};
  return d;
}
