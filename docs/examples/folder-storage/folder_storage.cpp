// An out-of-tree storage built against the installed SDK: objects as files in one flat
// folder, the key's '/' written as "%2F" so a listing is one directory read. It shows the
// storage contract: put/get/head/list/remove/presign as coroutines, blocking file work on
// the host's CPU pool, not_found as an error class, listing in pages with a token.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "imagepipe/error.hpp"
#include "imagepipe/plugin.hpp"
#include "imagepipe/schema.hpp"

namespace {

namespace fs = std::filesystem;
namespace schema = imagepipe::schema;
using imagepipe::ErrorClass;
using imagepipe::ObjectInfo;
using imagepipe::Task;

constexpr const char* kRoot = "root";

std::string file_name(const std::string& key) {
  std::string out;
  for (char c : key)
    out += c == '/' ? std::string("%2F") : c == '%' ? std::string("%25") : std::string(1, c);
  return out;
}

std::string key_of(const std::string& name) {
  std::string out;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name.compare(i, 3, "%2F") == 0)
      out += '/', i += 2;
    else if (name.compare(i, 3, "%25") == 0)
      out += '%', i += 2;
    else
      out += name[i];
  }
  return out;
}

class FolderStorage final : public imagepipe::Storage {
 public:
  FolderStorage(const imagepipe::Host& host, fs::path root) : host_(host), root_(std::move(root)) {}

  Task<ObjectInfo> put(std::string key, std::shared_ptr<const std::string> data,
                       imagepipe::PutOptions options) override {
    check_key(key);
    co_return co_await host_.cpu->run([&] {
      fs::create_directories(root_);
      // Written beside, then renamed: a reader never sees half an object.
      const fs::path target = root_ / file_name(key), part = root_ / (".part-" + file_name(key));
      std::ofstream(part, std::ios::binary)
          .write(data->data(), static_cast<std::streamsize>(data->size()));
      fs::rename(part, target);
      ObjectInfo info = info_of(key);
      info.content_type = options.content_type;
      return info;
    });
  }

  Task<std::string> get(std::string key) override {
    check_key(key);
    co_return co_await host_.cpu->run([&] {
      std::ifstream in(existing(key), std::ios::binary);
      return std::string(std::istreambuf_iterator<char>(in), {});
    });
  }

  Task<ObjectInfo> head(std::string key) override {
    check_key(key);
    co_return co_await host_.cpu->run([&] {
      existing(key);
      return info_of(key);
    });
  }

  // Keys in order; the token is the last key of the previous page.
  Task<imagepipe::ListPage> list(std::string prefix, std::string token, int max_keys) override {
    co_return co_await host_.cpu->run([&] {
      std::vector<std::string> keys;
      if (fs::exists(root_))
        for (const auto& entry : fs::directory_iterator(root_)) {
          const std::string name = entry.path().filename().string();
          if (name.rfind(".part-", 0) == 0) continue;
          std::string key = key_of(name);
          if (key.rfind(prefix, 0) == 0 && key > token) keys.push_back(std::move(key));
        }
      std::sort(keys.begin(), keys.end());
      imagepipe::ListPage page;
      for (const auto& key : keys) {
        if (static_cast<int>(page.objects.size()) == max_keys) {
          page.next_token = page.objects.back().key;
          break;
        }
        page.objects.push_back(info_of(key));
      }
      return page;
    });
  }

  Task<void> remove(std::string key) override {
    check_key(key);
    co_await host_.cpu->run([&] { fs::remove(root_ / file_name(key)); });
  }

  // A folder cannot sign a URL.
  Task<std::string> presign(std::string, std::chrono::seconds) override { co_return std::string(); }

  nlohmann::json location() const override { return {{"root", root_.string()}}; }

 private:
  static void check_key(const std::string& key) {
    if (key.empty() || key.size() > 1024)
      throw imagepipe::Error(ErrorClass::invalid_input,
                             "folder: a key must have 1 to 1024 characters");
  }
  fs::path existing(const std::string& key) const {
    fs::path path = root_ / file_name(key);
    if (!fs::exists(path))
      throw imagepipe::Error(ErrorClass::not_found, "folder: no object '" + key + "'");
    return path;
  }
  ObjectInfo info_of(const std::string& key) const {
    ObjectInfo info;
    info.key = key;
    info.size = fs::file_size(root_ / file_name(key));
    return info;
  }

  const imagepipe::Host& host_;
  fs::path root_;
};

}  // namespace

IMAGEPIPE_PLUGIN_SELF() {
  imagepipe::PluginDescriptor d;
  d.version = "1.0.0";
  d.summary = "Objects as files in one flat folder (an example storage).";
  d.description =
      "Keys map to file names with '/' written as %2F. An example of a storage written against the "
      "SDK.";
  d.options_schema =
      schema::options()
          .add(kRoot,
               schema::string().min_length(1).describe("The folder.").examples({"./objects"}))
          .require(kRoot);
  d.examples = {{{kRoot, "./objects"}}};
  d.factory = imagepipe::StorageFactory{[](const imagepipe::PluginArgs& args) {
    return std::make_unique<FolderStorage>(args.host, args.options.at(kRoot).get<std::string>());
  }};
  return d;
}
