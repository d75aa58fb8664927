// libFuzzer target for the pipeline loader (core/src/config): YAML, env expansion, the
// schema, plugin options and template references, on test plugins (the fake descriptors of
// the config tests, so no plugin library is needed). Pipeline files are written by users
// and, with the daemon's --pipelines folder, possibly by others: the loader must answer
// any text with a Pipeline or a PipelineError whose marks point inside the text.
#include <cstdint>
#include <string_view>

#include "imagepipe/pipeline.hpp"
#include "unit/config/fake_plugins.hpp"

using namespace imagepipe;

namespace {

const PluginRegistry& registry() {
  static const PluginRegistry* r = [] {
    auto* registry = new PluginRegistry;
    testing::register_fake_plugins(*registry);
    return registry;
  }();
  return *r;
}

std::size_t line_count(std::string_view text) {
  std::size_t lines = 1;
  for (char c : text) lines += c == '\n';
  return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  LoadOptions options;
  options.env_overrides = {{"NAME", "fuzz"}, {"EMPTY", ""}, {"DOLLAR", "${NAME}"}};
  // Both ways the runner loads: strict (run, validate) and for documentation (serve).
  options.allow_missing_env = size % 2 == 1;
  try {
    (void)load_pipeline_text(yaml, "fuzz.yaml", registry(), options);
  } catch (const PipelineError& e) {
    if (e.diagnostics().empty()) __builtin_trap();
    for (const auto& d : e.diagnostics()) {
      // A mark past the last line would print a caret under nothing.
      if (d.mark.file == "fuzz.yaml" && d.mark.line > 0 &&
          static_cast<std::size_t>(d.mark.line) > line_count(yaml) + 1)
        __builtin_trap();
    }
    (void)e.format();
  }
  return 0;
}
