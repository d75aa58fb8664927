// Storage `local`: a directory on this machine. Writes are atomic (temporary file, then
// rename) and every file operation runs on the CPU pool so the I/O threads never block.
#include <algorithm>
#include <fstream>
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

class LocalStorage final : public Storage {
 public:
  LocalStorage(const PluginArgs& args)
      : host_(args.host),
        root_(fs::absolute(args.options.at(kRoot).get<std::string>()).lexically_normal()),
        public_base_(args.options.value(kPublicBaseUrl, "")),
        link_base_(args.options.value(kUrlBase, "")),
        link_secret_(args.options.value(kUrlSecret, "")) {
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
      auto path = local_storage::resolve_key(root_, key);
      write_atomic(path, *data);
      json meta = {{"content_type", options.content_type}, {"metadata", options.metadata}};
      write_atomic(local_storage::meta_path(root_, key), meta.dump());
      return info_for(key, path);
    });
  }

  Task<std::string> get(std::string key) override {
    co_return co_await host_.cpu->run([&]() {
      auto path = local_storage::resolve_key(root_, key);
      if (!fs::is_regular_file(path)) throw Error(ErrorClass::not_found, "no object '" + key + "' in " + root_.string());
      return read_all(path);
    });
  }

  Task<ObjectInfo> head(std::string key) override {
    co_return co_await host_.cpu->run([&]() {
      auto path = local_storage::resolve_key(root_, key);
      if (!fs::is_regular_file(path)) throw Error(ErrorClass::not_found, "no object '" + key + "' in " + root_.string());
      return info_for(key, path);
    });
  }

  Task<ListPage> list(std::string prefix, std::string token, int max_keys) override {
    co_return co_await host_.cpu->run([&]() {
      // Keys are listed in byte order, as S3 does; the token is the last key returned.
      std::vector<std::string> keys;
      std::error_code ec;
      for (auto it = fs::recursive_directory_iterator(root_, ec); it != fs::recursive_directory_iterator(); ++it) {
        if (it->is_directory() && it->path().filename() == local_storage::kMetaDir) {
          it.disable_recursion_pending();
          continue;
        }
        if (!it->is_regular_file()) continue;
        auto key = fs::relative(it->path(), root_).generic_string();
        if (key.find(".tmp-") != std::string::npos) continue;
        if (key.compare(0, prefix.size(), prefix) == 0 && key > token) keys.push_back(std::move(key));
      }
      std::sort(keys.begin(), keys.end());
      ListPage page;
      const auto limit = static_cast<std::size_t>(std::max(1, max_keys));
      for (std::size_t i = 0; i < keys.size() && i < limit; ++i)
        page.objects.push_back(info_for(keys[i], root_ / keys[i]));
      if (keys.size() > limit) page.next_token = keys[limit - 1];
      return page;
    });
  }

  Task<void> remove(std::string key) override {
    co_await host_.cpu->run([&]() {
      auto path = local_storage::resolve_key(root_, key);
      std::error_code ec;
      if (!fs::remove(path, ec)) throw Error(ErrorClass::not_found, "no object '" + key + "' in " + root_.string());
      fs::remove(local_storage::meta_path(root_, key), ec);
    });
  }

  // With url_base, a link `imagepipe serve` answers (GET /files/<pipeline>/<key>) until it
  // expires; without, the file's own URL, which is all a one-shot run can offer.
  Task<std::string> presign(std::string key, std::chrono::seconds expires) override {
    const auto path = local_storage::resolve_key(root_, key);
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
  ObjectInfo info_for(const std::string& key, const fs::path& path) const {
    ObjectInfo info;
    info.key = key;
    std::error_code ec;
    info.size = fs::file_size(path, ec);
    auto mtime = fs::last_write_time(path, ec);
    info.last_modified = std::chrono::time_point_cast<std::chrono::system_clock::duration>(
        std::chrono::file_clock::to_sys(mtime));
    auto meta_file = local_storage::meta_path(root_, key);
    if (fs::exists(meta_file, ec)) {
      auto meta = json::parse(read_all(meta_file), nullptr, false);
      if (meta.is_object()) {
        info.content_type = meta.value("content_type", "");
        if (meta.contains("metadata") && meta["metadata"].is_object())
          for (const auto& [k, v] : meta["metadata"].items())
            if (v.is_string()) info.metadata[k] = v.get<std::string>();
      }
    }
    return info;
  }

  const Host& host_;
  fs::path root_;
  std::string public_base_;
  std::string link_base_;
  std::string link_secret_;
};

}  // namespace
}  // namespace imagepipe

IMAGEPIPE_PLUGIN(storage_local) {
  using namespace imagepipe;
  PluginDescriptor d;
  d.name = "local";
  d.version = "1.0.0";
  d.summary = "A directory on this machine.";
  d.description =
      "Objects are files under `root`; keys map to relative paths and can never escape the root "
      "(`..`, absolute paths and backslashes are refused). Content type and metadata are kept beside "
      "each file in a hidden `.imagepipe-meta` folder. Writes are atomic.";
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
          {"examples", {"${IMAGEPIPE_URL_SECRET}"}}}}}},
      {"dependencies", {{kUrlBase, {kUrlSecret}}}}};
  d.examples = {{{kRoot, "./out"}}};
  d.factory = StorageFactory{[](const PluginArgs& args) { return std::make_unique<LocalStorage>(args); }};
  return d;
}
