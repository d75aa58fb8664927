// The set of plugins a process knows: the built-in ones linked statically and those
// loaded from plugin directories. Loading checks the ABI version before anything else.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "imagepipe/plugin.hpp"

namespace imagepipe {

class PluginLoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RegisteredPlugin {
  const PluginDescriptor* descriptor = nullptr;
  std::string origin;  // "built-in" or the library's path
};

// Why a plugin built with `plugin_build` (its IMAGEPIPE_BUILD_SIGNATURE) cannot be loaded
// here, naming each library version that differs; "" when they all match.
std::string build_mismatch(const std::string& plugin_build);

class PluginRegistry {
 public:
  PluginRegistry();
  ~PluginRegistry();
  PluginRegistry(const PluginRegistry&) = delete;
  PluginRegistry& operator=(const PluginRegistry&) = delete;

  // A later registration of the same kind and name replaces the earlier one.
  void add(const PluginDescriptor& descriptor, std::string origin);

  // Loads one library. Throws PluginLoadError naming the file and the reason: not a
  // shared library, no `imagepipe_plugin` symbol, wrong ABI version, bad descriptor.
  void load_library(const std::filesystem::path& file);

  // Loads every *.so in each directory; returns one message per library refused (the
  // others still load). A missing directory is itself reported.
  std::vector<std::string> load_directories(const std::vector<std::filesystem::path>& dirs);

  const RegisteredPlugin* find(PluginKind kind, std::string_view name) const;
  std::vector<RegisteredPlugin> all() const;  // sorted by kind, then name
  std::vector<std::string> names(PluginKind kind) const;

 private:
  struct Library;
  std::vector<std::unique_ptr<Library>> libraries_;
  std::map<std::pair<PluginKind, std::string>, RegisteredPlugin> plugins_;
};

// Defined by the generated built-in plugin list (library imagepipe_builtin_plugins).
void register_builtin_plugins(PluginRegistry& registry);

// One schema violation, located by a JSON pointer into the validated document.
struct OptionIssue {
  enum class Kind { invalid, unknown_key, missing_key };
  std::string pointer;  // "" for the whole block, "/size" for a field
  std::string message;  // "must be <= 100, got 150", "unknown option 'qualty'"
  Kind kind = Kind::invalid;
  // unknown_key: the keys allowed where it stood (for "did you mean").
  std::vector<std::string> allowed;
};

// Validates `with` against the plugin's options schema. On success returns the options
// with top-level defaults filled in; on failure returns the issues (never throws).
struct OptionCheck {
  nlohmann::json options;
  std::vector<OptionIssue> issues;
  bool ok() const { return issues.empty(); }
};
OptionCheck check_options(const PluginDescriptor& descriptor, const nlohmann::json& with);
// Same for any schema (request bodies, pipeline blocks).
std::vector<OptionIssue> validate_json(const nlohmann::json& schema, const nlohmann::json& doc);

// The option paths marked writeOnly in a schema, as JSON pointers: values there are secrets.
std::vector<std::string> secret_pointers(const nlohmann::json& schema);

}  // namespace imagepipe
