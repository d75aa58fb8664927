// Plugin registry and loader. A library is trusted only after its ABI number matches:
// nothing else in it is read before that check.
#include "imagepipe/registry.hpp"

#include <algorithm>
#include <fstream>

#include <boost/dll/shared_library.hpp>

namespace imagepipe {

std::string_view to_string(PluginKind k) {
  switch (k) {
    case PluginKind::provider: return "provider";
    case PluginKind::storage: return "storage";
    case PluginKind::transform: return "transform";
    case PluginKind::notifier: return "notifier";
    case PluginKind::guard: return "guard";
  }
  return "unknown";
}

std::optional<PluginKind> plugin_kind_from_string(std::string_view s) {
  for (auto k : kPluginKinds)
    if (to_string(k) == s) return k;
  return std::nullopt;
}

struct PluginRegistry::Library {
  boost::dll::shared_library handle;
};

PluginRegistry::PluginRegistry() = default;
// Descriptors live inside the libraries: drop the map before unloading them.
PluginRegistry::~PluginRegistry() {
  plugins_.clear();
  libraries_.clear();
}

void PluginRegistry::add(const PluginDescriptor& descriptor, std::string origin) {
  plugins_[{descriptor.kind(), descriptor.name}] = RegisteredPlugin{&descriptor, std::move(origin)};
}

namespace {
// Boost wraps dlerror() as "...(dlerror system message: REASON): <stale errno>"; keep REASON only.
std::string loader_reason(std::string_view what) {
  constexpr std::string_view marker = "dlerror system message: ";
  const auto start = what.find(marker);
  if (start == std::string_view::npos) return std::string(what);
  auto reason = what.substr(start + marker.size());
  if (const auto end = reason.rfind("):"); end != std::string_view::npos) reason = reason.substr(0, end);
  return std::string(reason);
}
}  // namespace

namespace {

std::vector<std::string> split_signature(const std::string& text) {
  std::vector<std::string> parts;
  for (std::size_t start = 0; start < text.size();) {
    auto end = text.find("; ", start);
    if (end == std::string::npos) end = text.size();
    parts.push_back(text.substr(start, end - start));
    start = end + 2;
  }
  return parts;
}

}  // namespace

// "" when the plugin was built against the versions this library was; else each that
// differs: "boost 1_80 (this imagepipe: boost 1_74)".
std::string build_mismatch(const std::string& plugin_build) {
  const std::string ours = IMAGEPIPE_BUILD_SIGNATURE;
  if (plugin_build == ours) return {};
  const auto theirs = split_signature(plugin_build), mine = split_signature(ours);
  std::string out;
  for (const auto& part : theirs) {
    const std::string library = part.substr(0, part.find(' '));
    const auto same = std::find_if(mine.begin(), mine.end(), [&](const std::string& m) {
      return m.substr(0, m.find(' ')) == library;
    });
    if (same != mine.end() && *same == part) continue;
    out += (out.empty() ? "" : ", ") + part +
           (same == mine.end() ? "" : " (this imagepipe: " + *same + ")");
  }
  return out.empty() ? "other library versions (" + plugin_build + "; this imagepipe: " + ours + ")"
                     : out;
}

void PluginRegistry::load_library(const std::filesystem::path& file) {
  const std::string name = file.string();
  {
    // Checked before dlopen so the reason does not depend on how the C library words it.
    char magic[4] = {};
    std::ifstream in(file, std::ios::binary);
    if (!in.read(magic, sizeof magic) || std::string_view(magic, 4) != "\x7f" "ELF")
      throw PluginLoadError("cannot load plugin " + name + ": not a shared library (no ELF header)");
  }
  auto library = std::make_unique<Library>();
  try {
    library->handle.load(file.string(), boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    throw PluginLoadError("cannot load plugin " + name + ": " + loader_reason(e.what()));
  }
  if (!library->handle.has("imagepipe_plugin"))
    throw PluginLoadError("cannot load plugin " + name +
                          ": not an imagepipe plugin (it exports no 'imagepipe_plugin' symbol)");
  const auto& entry = library->handle.get<const imagepipe_plugin_entry>("imagepipe_plugin");
  if (entry.abi_version != IMAGEPIPE_ABI_VERSION)
    throw PluginLoadError("cannot load plugin " + name + ": built for plugin ABI version " +
                          std::to_string(entry.abi_version) + ", this imagepipe uses ABI version " +
                          std::to_string(IMAGEPIPE_ABI_VERSION) + "; rebuild it against this SDK");
  if (const auto mismatch = build_mismatch(entry.build ? entry.build : ""); !mismatch.empty())
    throw PluginLoadError("cannot load plugin " + name + ": built against " + mismatch +
                          "; rebuild it with this imagepipe's SDK and the same Debian packages");
  if (entry.descriptor == nullptr)
    throw PluginLoadError("cannot load plugin " + name + ": its entry has no descriptor");
  const PluginDescriptor& descriptor = entry.descriptor();
  if (descriptor.name.empty())
    throw PluginLoadError("cannot load plugin " + name + ": its descriptor has no name");
  if (descriptor.factory.valueless_by_exception() ||
      std::visit([](const auto& f) { return !f; }, descriptor.factory))
    throw PluginLoadError("cannot load plugin " + name + ": its descriptor has no factory");
  add(descriptor, name);
  libraries_.push_back(std::move(library));
}

std::vector<std::string> PluginRegistry::load_directories(const std::vector<std::filesystem::path>& dirs) {
  std::vector<std::string> refused;
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      refused.push_back("plugin directory " + dir.string() + " does not exist");
      continue;
    }
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
      if (e.path().extension() == ".so") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      try {
        load_library(f);
      } catch (const PluginLoadError& e) {
        refused.push_back(e.what());
      }
    }
  }
  return refused;
}

const RegisteredPlugin* PluginRegistry::find(PluginKind kind, std::string_view name) const {
  auto it = plugins_.find({kind, std::string(name)});
  return it == plugins_.end() ? nullptr : &it->second;
}

std::vector<RegisteredPlugin> PluginRegistry::all() const {
  std::vector<RegisteredPlugin> out;
  for (const auto& [key, plugin] : plugins_) out.push_back(plugin);
  return out;
}

std::vector<std::string> PluginRegistry::names(PluginKind kind) const {
  std::vector<std::string> out;
  for (const auto& [key, plugin] : plugins_)
    if (key.first == kind) out.push_back(key.second);
  return out;
}

}  // namespace imagepipe
