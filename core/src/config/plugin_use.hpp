// One `use: NAME` + `with: {...}` entry: the plugin looked up by the kind its position
// implies, its options validated against the plugin's schema and located in the file.
#pragma once

#include <optional>

#include "config/mapping.hpp"

namespace imagepipe::config {

// Reads `use` and `with` from `entry` (the caller has already listed the allowed keys).
// Returns nullopt, with diagnostics, when `use` is missing or names no known plugin.
std::optional<PluginUse> read_plugin_use(Mapping& entry, PluginKind kind);

}  // namespace imagepipe::config
