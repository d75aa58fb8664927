// Where an installed imagepipe keeps its parts, found from the executable's own path
// (/proc/self/exe) rather than the prefix it was built for, so a tree installed under any
// prefix, or moved, works: <prefix>/bin/imagepipe beside <prefix>/<libdir>/imagepipe/plugins
// and <prefix>/<datadir>/imagepipe/pipelines. Run from the build tree, neither exists and
// the source tree's pipelines are the default.
#pragma once

#include <filesystem>

namespace imagepipe::runner {

// The installed plugin folder; empty when this binary is not in an installed tree.
std::filesystem::path installed_plugin_dir();
// The shipped pipelines: the installed copy, else the source tree's.
std::filesystem::path default_pipeline_dir();

}  // namespace imagepipe::runner
