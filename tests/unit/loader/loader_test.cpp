// The plugin loader: the ABI check comes first, and every refusal names file and reason.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "imagepipe/describe.hpp"
#include "imagepipe/registry.hpp"

namespace imagepipe {
namespace {

namespace fs = std::filesystem;
const fs::path kFixtures = fs::path(IMAGEPIPE_BINARY_DIR) / "fixtures/plugins";
const fs::path kPlugins = IMAGEPIPE_PLUGIN_DIR;

std::string load_error(const fs::path& file) {
  PluginRegistry registry;
  try {
    registry.load_library(file);
  } catch (const PluginLoadError& e) {
    return e.what();
  }
  return "loaded";
}

TEST(Loader, RefusesAnotherAbiVersionNamingBothVersions) {
  auto file = kFixtures / "fixture_bad_abi.so";
  EXPECT_EQ(load_error(file),
            "cannot load plugin " + file.string() +
                ": built for plugin ABI version 999, this imagepipe uses ABI version " +
                std::to_string(IMAGEPIPE_ABI_VERSION) + "; rebuild it against this SDK");
}

TEST(Loader, RefusesAPluginBuiltAgainstOtherLibraryVersionsNamingThem) {
  auto file = kFixtures / "fixture_other_boost.so";
  EXPECT_EQ(load_error(file), "cannot load plugin " + file.string() +
                                  ": built against boost 1_99 (this imagepipe: boost " +
                                  BOOST_LIB_VERSION +
                                  "); rebuild it with this imagepipe's SDK and the same Debian "
                                  "packages");
  EXPECT_EQ(build_mismatch(IMAGEPIPE_BUILD_SIGNATURE), "");
  EXPECT_NE(build_mismatch("").find("other library versions"), std::string::npos);
}

TEST(Loader, RefusesALibraryWithoutTheEntrySymbol) {
  auto file = kFixtures / "fixture_no_symbol.so";
  EXPECT_EQ(load_error(file),
            "cannot load plugin " + file.string() +
                ": not an imagepipe plugin (it exports no 'imagepipe_plugin' symbol)");
}

TEST(Loader, RefusesAFileThatIsNotASharedLibrary) {
  auto file = fs::temp_directory_path() / "imagepipe-not-elf.so";
  std::ofstream(file) << "just text";
  auto error = load_error(file);
  EXPECT_EQ(error,
            "cannot load plugin " + file.string() + ": not a shared library (no ELF header)");
  fs::remove(file);
}

TEST(Loader, ATruncatedLibraryGivesTheDynamicLoadersReason) {
  auto file = fs::temp_directory_path() / "imagepipe-truncated.so";
  std::ofstream(file, std::ios::binary) << std::string(
      "\x7f"
      "ELF\x02\x01\x01",
      7);
  auto error = load_error(file);
  fs::remove(file);
  // glibc says "file too short" here; the point is that its reason is kept, and Boost's
  // wrapping and stale errno are not.
  EXPECT_EQ(error,
            "cannot load plugin " + file.string() + ": " + file.string() + ": file too short");
}

TEST(Loader, ScanningADirectoryReportsBadLibrariesAndKeepsGoodOnes) {
  auto dir = fs::temp_directory_path() / "imagepipe-scan-test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(kFixtures / "fixture_bad_abi.so", dir / "a_bad.so");
  fs::copy_file(kPlugins / "imagepipe-storage-local.so", dir / "b_local.so");
  PluginRegistry registry;
  auto refused = registry.load_directories({dir, dir / "missing"});
  ASSERT_EQ(refused.size(), 2u);
  EXPECT_NE(refused[0].find("a_bad.so: built for plugin ABI version 999"), std::string::npos)
      << refused[0];
  EXPECT_EQ(refused[1], "plugin directory " + (dir / "missing").string() + " does not exist");
  const auto* local = registry.find(PluginKind::storage, "local");
  ASSERT_NE(local, nullptr);
  EXPECT_EQ(local->origin, (dir / "b_local.so").string());
  EXPECT_EQ(local->descriptor->name, "local");
  fs::remove_all(dir);
}

TEST(Loader, EveryBuiltPluginLibraryLoadsAndMatchesItsBuiltInTwin) {
  PluginRegistry builtin;
  register_builtin_plugins(builtin);
  std::size_t libraries = 0;
  for (const auto& entry : fs::directory_iterator(kPlugins)) {
    if (entry.path().extension() != ".so") continue;
    ++libraries;
    PluginRegistry registry;
    ASSERT_NO_THROW(registry.load_library(entry.path())) << entry.path();
    auto loaded = registry.all();
    ASSERT_EQ(loaded.size(), 1u);
    const auto* twin = builtin.find(loaded[0].descriptor->kind(), loaded[0].descriptor->name);
    ASSERT_NE(twin, nullptr) << entry.path();
    EXPECT_EQ(loaded[0].descriptor->options_schema, twin->descriptor->options_schema);
  }
  EXPECT_EQ(libraries, builtin.all().size());
}

TEST(Options, ValidatesAndFillsDefaults) {
  PluginRegistry registry;
  register_builtin_plugins(registry);
  const auto* local = registry.find(PluginKind::storage, "local");
  ASSERT_NE(local, nullptr);
  auto ok = check_options(*local->descriptor, {{"root", "/tmp/x"}});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.options["create"], true);

  auto bad = check_options(*local->descriptor, {{"root", 5}, {"craete", true}});
  ASSERT_EQ(bad.issues.size(), 2u);
  EXPECT_EQ(bad.issues[0].pointer, "/craete");
  EXPECT_EQ(bad.issues[0].message, "unknown option 'craete'");
  EXPECT_EQ(bad.issues[0].kind, OptionIssue::Kind::unknown_key);
  EXPECT_EQ(bad.issues[0].allowed,
            (std::vector<std::string>{"create", "metadata_file", "public_base_url", "root",
                                      "url_base", "url_secret"}));
  EXPECT_EQ(bad.issues[1].pointer, "/root");
  EXPECT_EQ(bad.issues[1].message, "must be a string, got number 5");

  auto missing = check_options(*local->descriptor, nlohmann::json::object());
  ASSERT_EQ(missing.issues.size(), 1u);
  EXPECT_EQ(missing.issues[0].message, "missing required option 'root'");

  // Links cannot be signed without a secret, nor with a short one.
  auto unsigned_links =
      check_options(*local->descriptor, {{"root", "/tmp/x"}, {"url_base", "http://h/files/p"}});
  ASSERT_EQ(unsigned_links.issues.size(), 1u);
  auto short_secret = check_options(
      *local->descriptor,
      {{"root", "/tmp/x"}, {"url_base", "http://h/files/p"}, {"url_secret", "short"}});
  ASSERT_EQ(short_secret.issues.size(), 1u);
  EXPECT_EQ(short_secret.issues[0].pointer, "/url_secret");
}

TEST(Options, RangeEnumAndValijsonRules) {
  nlohmann::json schema = {{"type", "object"},
                           {"properties",
                            {{"q", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100}}},
                             {"f", {{"type", "string"}, {"enum", {"png", "jpeg"}}}},
                             {"code", {{"type", "string"}, {"pattern", "^[a-z]+$"}}}}}};
  auto issues = validate_json(schema, {{"q", 150}, {"f", "gif"}});
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_EQ(issues[0].message, "must be one of png, jpeg; got \"gif\"");
  EXPECT_EQ(issues[1].message, "must be <= 100, got 150");
  // Rules the walker does not know still fail, through valijson.
  auto pattern = validate_json(schema, {{"code", "ABC"}});
  ASSERT_EQ(pattern.size(), 1u);
  EXPECT_EQ(pattern[0].pointer, "/code");
}

TEST(Options, SecretsAreFoundByWriteOnly) {
  nlohmann::json schema = {
      {"type", "object"},
      {"properties",
       {{"api_key", {{"type", "string"}, {"writeOnly", true}}},
        {"auth", {{"type", "object"}, {"properties", {{"token", {{"writeOnly", true}}}}}}}}}};
  EXPECT_EQ(secret_pointers(schema), (std::vector<std::string>{"/api_key", "/auth/token"}));
}

TEST(Docs, CommittedPluginReferenceIsCurrent) {
  PluginRegistry registry;
  register_builtin_plugins(registry);
  std::ifstream in(fs::path(IMAGEPIPE_SOURCE_DIR) / "docs/plugins.md");
  std::string committed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(committed, plugin_reference_markdown(registry))
      << "docs/plugins.md is stale: regenerate it with `build/bin/imagepipe plugins docs > "
         "docs/plugins.md`";
}

}  // namespace
}  // namespace imagepipe
