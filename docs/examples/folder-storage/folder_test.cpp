// The folder storage from its library: what was put can be read, listed in pages, removed.
#include <gtest/gtest.h>

#include <filesystem>

#include "imagepipe/error.hpp"
#include "imagepipe/testing/plugin_harness.hpp"

using imagepipe::testing::PluginHarness;

namespace {

std::string temp_root() {
  auto root =
      std::filesystem::temp_directory_path() / ("folder-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(root);
  return root.string();
}

}  // namespace

TEST(Folder, PutGetListRemove) {
  auto harness = PluginHarness::load(PLUGIN_LIBRARY);
  const std::string root = temp_root();
  auto store = harness.storage({{"root", root}});
  for (const char* key : {"a/1.png", "a/2.png", "a/3.png", "b/1.png"})
    harness.run(
        store->put(key, std::make_shared<const std::string>(std::string("bytes of ") + key), {}));
  EXPECT_EQ(harness.run(store->get("a/2.png")), "bytes of a/2.png");
  EXPECT_EQ(harness.run(store->head("b/1.png")).size, 16u);

  auto first = harness.run(store->list("a/", "", 2));
  ASSERT_EQ(first.objects.size(), 2u);
  EXPECT_EQ(first.objects[0].key, "a/1.png");
  EXPECT_EQ(first.next_token, "a/2.png");
  auto second = harness.run(store->list("a/", first.next_token, 2));
  ASSERT_EQ(second.objects.size(), 1u);
  EXPECT_EQ(second.objects[0].key, "a/3.png");
  EXPECT_TRUE(second.next_token.empty());

  harness.run(store->remove("a/2.png"));
  try {
    harness.run(store->get("a/2.png"));
    FAIL() << "a removed object was read";
  } catch (const imagepipe::Error& e) {
    EXPECT_EQ(e.cls(), imagepipe::ErrorClass::not_found);
    EXPECT_STREQ(e.what(), "folder: no object 'a/2.png'");
  }
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(root), {}), 3);
  std::filesystem::remove_all(root);
}

TEST(Folder, RootIsRequired) {
  auto harness = PluginHarness::load(PLUGIN_LIBRARY);
  EXPECT_THROW(harness.storage(), std::invalid_argument);
}
