// The binary contract between the core and a plugin library.
//
// A plugin source file declares itself with IMAGEPIPE_PLUGIN_SELF() (its kind and name come
// from its imagepipe_add_plugin() call) and returns a PluginDescriptor. The build (imagepipe_add_plugin in CMake) compiles it both into a
// shared library exporting the C symbol `imagepipe_plugin` and into the static set of
// built-in plugins, so tests and the one-shot runner need no dlopen.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <boost/version.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/fmt/fmt.h>
#include <spdlog/version.h>

#include "imagepipe/host.hpp"
#include "imagepipe/plugin_interfaces.hpp"

// Bump whenever anything reachable from PluginDescriptor, Host or the plugin interfaces
// changes layout or meaning. The loader reads this number before touching anything else.
//   1: first release.
//   2: guard plugins (a fifth kind in PluginFactory).
//   3: the entry carries the plugin's build signature (below).
//   4: Host carries the decoded-pixel budget (Host::pixels); Image its reservation.
#define IMAGEPIPE_ABI_VERSION 4u

// A plugin shares C++ types (std::string, nlohmann::json, spdlog loggers, Boost.Asio
// executors) with the host, so it must be built against the same major version of the
// C++ standard library and the same versions of Boost, nlohmann/json, spdlog and fmt as the
// imagepipe that loads it; any compiler that uses that standard library will do. This
// string, made by the preprocessor where the plugin is compiled, is what the loader
// compares (see docs/writing-plugins.md).
#define IMAGEPIPE_STRINGIFY_(x) #x
#define IMAGEPIPE_STRINGIFY(x) IMAGEPIPE_STRINGIFY_(x)
#define IMAGEPIPE_BUILD_SIGNATURE                                                              \
  "libstdc++ " IMAGEPIPE_STRINGIFY(_GLIBCXX_RELEASE) "; boost " BOOST_LIB_VERSION                \
  "; nlohmann_json " IMAGEPIPE_STRINGIFY(NLOHMANN_JSON_VERSION_MAJOR) "." IMAGEPIPE_STRINGIFY(     \
      NLOHMANN_JSON_VERSION_MINOR) "." IMAGEPIPE_STRINGIFY(NLOHMANN_JSON_VERSION_PATCH)          \
  "; spdlog " IMAGEPIPE_STRINGIFY(SPDLOG_VER_MAJOR) "." IMAGEPIPE_STRINGIFY(                     \
      SPDLOG_VER_MINOR) "." IMAGEPIPE_STRINGIFY(SPDLOG_VER_PATCH) "; fmt " IMAGEPIPE_STRINGIFY( \
      FMT_VERSION)

namespace imagepipe {

enum class PluginKind { provider = 0, storage = 1, transform = 2, notifier = 3, guard = 4 };
inline constexpr PluginKind kPluginKinds[] = {PluginKind::provider, PluginKind::storage,
                                              PluginKind::transform, PluginKind::notifier,
                                              PluginKind::guard};
std::string_view to_string(PluginKind k);
std::optional<PluginKind> plugin_kind_from_string(std::string_view s);

struct PluginArgs {
  const Host& host;
  const nlohmann::json& options;  // validated against options_schema, defaults applied
};

using ProviderFactory = std::function<std::unique_ptr<Provider>(const PluginArgs&)>;
using StorageFactory = std::function<std::unique_ptr<Storage>(const PluginArgs&)>;
using TransformFactory = std::function<std::unique_ptr<Transform>(const PluginArgs&)>;
using NotifierFactory = std::function<std::unique_ptr<Notifier>(const PluginArgs&)>;
using GuardFactory = std::function<std::unique_ptr<Guard>(const PluginArgs&)>;
// The alternative held decides the kind (same order as PluginKind).
using PluginFactory =
    std::variant<ProviderFactory, StorageFactory, TransformFactory, NotifierFactory, GuardFactory>;

struct PluginDescriptor {
  std::string name;  // as written after `use:`
  std::string version;
  std::string summary;      // one line
  std::string description;  // a paragraph: why and the limits
  // JSON Schema (draft 7) of the `with:` block: an object schema whose properties carry
  // description, default and examples. Options marked "writeOnly": true are secrets: the
  // core redacts their values from logs and errors.
  nlohmann::json options_schema = nlohmann::json::object();
  // Providers: operations, sizes, max images per request, seed/style/quality support,
  // typical latency. Free-form for other kinds.
  nlohmann::json capabilities = nlohmann::json::object();
  // Complete `with:` blocks, each validated by the test suite.
  std::vector<nlohmann::json> examples;
  PluginFactory factory;

  PluginKind kind() const { return static_cast<PluginKind>(factory.index()); }
};

}  // namespace imagepipe

extern "C" {
// The only exported symbol of a plugin library. Layout is frozen: abi_version first.
struct imagepipe_plugin_entry {
  std::uint32_t abi_version;
  const char* id;
  const imagepipe::PluginDescriptor& (*descriptor)();
  const char* build;  // IMAGEPIPE_BUILD_SIGNATURE where the plugin was compiled
};
}

namespace imagepipe::detail {
// The descriptor with the name its build declared, unless it names itself.
inline PluginDescriptor with_declared_name(PluginDescriptor d, const char* declared) {
  if (d.name.empty()) d.name = declared;
  return d;
}
}  // namespace imagepipe::detail

// imagepipe_add_plugin(<name> KIND <kind> ...) defines these for the plugin's sources.
#ifdef IMAGEPIPE_PLUGIN_NAME
#define IMAGEPIPE_PLUGIN_DECLARED_NAME_ IMAGEPIPE_PLUGIN_NAME
#else
#define IMAGEPIPE_PLUGIN_DECLARED_NAME_ ""
#endif

#define IMAGEPIPE_PLUGIN(ID)                                                            \
  static ::imagepipe::PluginDescriptor imagepipe_build_##ID();                          \
  const ::imagepipe::PluginDescriptor& imagepipe_descriptor_##ID() {                    \
    static const ::imagepipe::PluginDescriptor descriptor =                             \
        ::imagepipe::detail::with_declared_name(imagepipe_build_##ID(),                 \
                                                IMAGEPIPE_PLUGIN_DECLARED_NAME_);       \
    return descriptor;                                                                  \
  }                                                                                     \
  static ::imagepipe::PluginDescriptor imagepipe_build_##ID()

// The plugin this source belongs to, as its imagepipe_add_plugin() call names it, so the
// name is written once (in CMake):
//   IMAGEPIPE_PLUGIN_SELF() { imagepipe::PluginDescriptor d; d.version = "1.0.0"; ... }
#define IMAGEPIPE_PLUGIN_SELF() IMAGEPIPE_PLUGIN_EXPAND_(IMAGEPIPE_PLUGIN_ID)
#define IMAGEPIPE_PLUGIN_EXPAND_(ID) IMAGEPIPE_PLUGIN(ID)
