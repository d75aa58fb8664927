// Storage `local` with its metadata file in either place: the hidden folder (the default)
// or beside each object, as seed 004 keeps {storage_id}.png and {storage_id}.json.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <future>

#include <boost/asio/use_future.hpp>

#include "imagepipe/error.hpp"
#include "imagepipe/registry.hpp"
#include "support/images.hpp"
#include "support/processes.hpp"

namespace imagepipe {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::ElementsAre;

// 2026-11-21T09:30:00Z, whatever the machine's time.
class FixedClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::from_time_t(1'795'253'400);
  }
  std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::now();
  }
  Task<void> sleep_for(std::chrono::milliseconds) override { co_return; }
};

class LocalStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::make_temp_dir("ip-local");
    host_.cpu = &cpu_;
    host_.clock = &clock_;
  }
  void TearDown() override {
    pool_.join();
    fs::remove_all(root_);
  }

  std::unique_ptr<Storage> make(json with) {
    with["root"] = root_.string();
    const auto& plugin = testing::builtin_plugin(PluginKind::storage, "local");
    return std::get<StorageFactory>(plugin.factory)(
        PluginArgs{host_, testing::checked_options(plugin, with)});
  }
  template <class T>
  T run(Task<T> task) {
    auto f = asio::co_spawn(io_, std::move(task), asio::use_future);
    io_.restart();
    io_.run();
    return f.get();
  }
  void run(Task<void> task) {
    auto f = asio::co_spawn(io_, std::move(task), asio::use_future);
    io_.restart();
    io_.run();
    f.get();
  }
  // The error `task` ends with; fails the test when it succeeds.
  template <class T>
  Error error_of(Task<T> task) {
    try {
      run(std::move(task));
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "expected an error";
    return Error(ErrorClass::internal, "");
  }
  std::string read(const fs::path& p) {
    std::ifstream in(root_ / p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  std::vector<std::string> listed(Storage& storage, const std::string& prefix = "") {
    std::vector<std::string> keys;
    for (const auto& o : run(storage.list(prefix, "", 1000)).objects) keys.push_back(o.key);
    return keys;
  }

  fs::path root_;
  asio::io_context io_;
  asio::thread_pool pool_{1};
  CpuPool cpu_{pool_};
  FixedClock clock_;
  Host host_;
};

const PutOptions kPut{"image/png",
                      {{"prompt", "a cat in a hat, caf\xC3\xA9"}, {"provider", "dalle3"},
                       {"size", "1024x1024"}}};

TEST_F(LocalStorageTest, BesideWritesTheMetadataFileNextToTheObjectAndHeadReadsIt) {
  auto local = make({{"metadata_file", "beside"}});
  const std::string key = "2026/11/21/3f2a9c.png";
  auto data = std::make_shared<const std::string>("\x89PNG\r\n\x1a\n not really a png");
  auto written = run(local->put(key, data, kPut));
  EXPECT_EQ(written.size, data->size());
  EXPECT_EQ(written.content_type, "image/png");
  EXPECT_EQ(written.metadata, kPut.metadata);

  EXPECT_EQ(read(key), *data);
  EXPECT_EQ(json::parse(read("2026/11/21/3f2a9c.json")),
            (json{{"key", key},
                  {"content_type", "image/png"},
                  {"size", data->size()},
                  {"created_at", "2026-11-21T09:30:00Z"},
                  {"metadata",
                   {{"prompt", "a cat in a hat, caf\xC3\xA9"},
                    {"provider", "dalle3"},
                    {"size", "1024x1024"}}}}));
  EXPECT_FALSE(fs::exists(root_ / ".imagepipe-meta"));

  auto info = run(local->head(key));
  EXPECT_EQ(info.key, key);
  EXPECT_EQ(info.size, data->size());
  EXPECT_EQ(info.content_type, "image/png");
  EXPECT_EQ(info.metadata, kPut.metadata);
  EXPECT_EQ(run(local->get(key)), *data);
}

TEST_F(LocalStorageTest, BesideListsObjectsWithoutTheirMetadataFiles) {
  auto local = make({{"metadata_file", "beside"}});
  auto data = std::make_shared<const std::string>("bytes");
  for (const char* key : {"2026/11/21/a.png", "2026/11/21/b.png", "2026/11/22/c"})
    run(local->put(key, data, kPut));
  EXPECT_TRUE(fs::is_regular_file(root_ / "2026/11/22/c.json"));
  EXPECT_THAT(listed(*local), ElementsAre("2026/11/21/a.png", "2026/11/21/b.png", "2026/11/22/c"));
  auto page = run(local->list("2026/11/21/", "", 1000));
  ASSERT_EQ(page.objects.size(), 2u);
  EXPECT_EQ(page.objects[1].key, "2026/11/21/b.png");
  EXPECT_EQ(page.objects[1].content_type, "image/png");
  EXPECT_EQ(page.objects[1].metadata, kPut.metadata);
}

TEST_F(LocalStorageTest, PagesWalkInByteOrderEachKeyOnceAndOnlyUnderThePrefix) {
  auto local = make(json::object());
  auto data = std::make_shared<const std::string>("bytes");
  // '/' sorts between '.' and the letters: byte order is not a folder-by-folder walk.
  const std::vector<std::string> keys = {"in/a.png",     "in/a/b.png",   "in/a0.png", "in/b.png",
                                         "in/c/d/e.png", "in/c/d/f.png", "in2/x.png", "out/y.png"};
  for (auto it = keys.rbegin(); it != keys.rend(); ++it) run(local->put(*it, data, kPut));

  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    auto page = run(local->list("in/", token, 2));
    EXPECT_LE(page.objects.size(), 2u);
    for (const auto& o : page.objects) seen.push_back(o.key);
    token = page.next_token;
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_THAT(seen, ElementsAre("in/a.png", "in/a/b.png", "in/a0.png", "in/b.png", "in/c/d/e.png",
                                "in/c/d/f.png"));
  EXPECT_EQ(pages, 3);
  // A prefix that is no folder's whole name still finds what starts with it.
  EXPECT_THAT(listed(*local, "in/a"), ElementsAre("in/a.png", "in/a/b.png", "in/a0.png"));
  EXPECT_THAT(listed(*local, "in"), ElementsAre("in/a.png", "in/a/b.png", "in/a0.png", "in/b.png",
                                                "in/c/d/e.png", "in/c/d/f.png", "in2/x.png"));
  // Nothing lies outside the root, nor in a folder that is not there.
  EXPECT_TRUE(listed(*local, "../").empty());
  EXPECT_TRUE(listed(*local, "in/../../").empty());
  EXPECT_TRUE(listed(*local, "nowhere/").empty());
}

TEST_F(LocalStorageTest, BesideRemoveDeletesTheMetadataFileToo) {
  auto local = make({{"metadata_file", "beside"}});
  run(local->put("out/x.png", std::make_shared<const std::string>("x"), kPut));
  ASSERT_TRUE(fs::exists(root_ / "out/x.json"));
  run(local->remove("out/x.png"));
  EXPECT_FALSE(fs::exists(root_ / "out/x.png"));
  EXPECT_FALSE(fs::exists(root_ / "out/x.json"));
  EXPECT_TRUE(listed(*local).empty());
  EXPECT_EQ(error_of(local->head("out/x.png")).cls(), ErrorClass::not_found);
}

TEST_F(LocalStorageTest, BesideRefusesKeysEndingInJson) {
  auto local = make({{"metadata_file", "beside"}});
  auto e = error_of(local->put("out/x.json", std::make_shared<const std::string>("{}"), {}));
  EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
  EXPECT_STREQ(e.what(),
               "storage key 'out/x.json' ends in .json, which local storage with "
               "`metadata_file: beside` keeps for the metadata files beside the objects");
  EXPECT_FALSE(fs::exists(root_ / "out"));

  // Nor can a metadata file be read, listed or removed as an object.
  run(local->put("out/y.png", std::make_shared<const std::string>("y"), kPut));
  EXPECT_EQ(error_of(local->get("out/y.json")).cls(), ErrorClass::invalid_input);
  EXPECT_EQ(error_of(local->head("out/Y.JSON")).cls(), ErrorClass::invalid_input);
  EXPECT_EQ(error_of(local->remove("out/y.json/")).cls(), ErrorClass::invalid_input);
  EXPECT_TRUE(fs::exists(root_ / "out/y.json"));
}

TEST_F(LocalStorageTest, BesideRefusesASecondObjectThatWouldShareTheMetadataFile) {
  auto local = make({{"metadata_file", "beside"}});
  run(local->put("out/a.png", std::make_shared<const std::string>("png"), kPut));
  auto e = error_of(local->put("out/a.jpg", std::make_shared<const std::string>("jpg"), {}));
  EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
  EXPECT_STREQ(e.what(),
               "storage key 'out/a.jpg' would share its metadata file out/a.json with "
               "'out/a.png': with `metadata_file: beside`, objects in one folder need different "
               "names before the extension");
  EXPECT_FALSE(fs::exists(root_ / "out/a.jpg"));
  EXPECT_EQ(run(local->head("out/a.png")).metadata, kPut.metadata);

  // Once a.png is gone, a.jpg may take the name.
  run(local->remove("out/a.png"));
  run(local->put("out/a.jpg", std::make_shared<const std::string>("jpg"), {"image/jpeg", {}}));
  EXPECT_EQ(json::parse(read("out/a.json"))["key"], "out/a.jpg");
  EXPECT_EQ(run(local->head("out/a.jpg")).content_type, "image/jpeg");
}

TEST_F(LocalStorageTest, BesideKeepsThePathChecks) {
  auto local = make({{"metadata_file", "beside"}});
  auto data = std::make_shared<const std::string>("x");
  for (const char* key : {"../escape.png", "/abs.png", "a/../../b.png", "a\\b.png",
                          ".imagepipe-meta/x.png", ""}) {
    EXPECT_EQ(error_of(local->put(key, data, {})).cls(), ErrorClass::invalid_input) << key;
  }
  EXPECT_TRUE(fs::is_empty(root_));
}

TEST_F(LocalStorageTest, HiddenIsTheDefaultAndLeavesTheFolderClean) {
  auto local = make({});
  const std::string key = "2026/11/21/3f2a9c.png";
  auto data = std::make_shared<const std::string>("png bytes");
  run(local->put(key, data, kPut));
  EXPECT_FALSE(fs::exists(root_ / "2026/11/21/3f2a9c.json"));
  const auto meta = json::parse(read(".imagepipe-meta/" + key + ".json"));
  EXPECT_EQ(meta["content_type"], "image/png");
  EXPECT_EQ(meta["metadata"]["provider"], "dalle3");
  EXPECT_EQ(run(local->head(key)).metadata, kPut.metadata);
  EXPECT_THAT(listed(*local), ElementsAre(key));

  // Without `beside`, .json is a key like any other.
  run(local->put("data/report.json", std::make_shared<const std::string>("{}"),
                 {"application/json", {}}));
  EXPECT_EQ(run(local->head("data/report.json")).content_type, "application/json");
  run(local->remove(key));
  EXPECT_FALSE(fs::exists(root_ / ".imagepipe-meta" / (key + ".json")));
}

TEST_F(LocalStorageTest, AnUnknownMetadataFilePlaceIsRefusedByTheSchema) {
  const auto& plugin = testing::builtin_plugin(PluginKind::storage, "local");
  EXPECT_THROW(
      testing::checked_options(plugin, {{"root", root_.string()}, {"metadata_file", "sidecar"}}),
      std::runtime_error);
}

}  // namespace
}  // namespace imagepipe
