// What a runtime placeholder may name: `${item.stme}` is a typo that would render empty at
// run time (and once wrote every item of a job to one hidden file), so each reference is
// checked when the pipeline loads against what its root holds.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace imagepipe::config {

struct ReferenceProblem {
  std::string message;
  std::string hint;
};

// `path` is a placeholder's path ("item.stem", "items[0].url", "request.body.prompt");
// `request_schema` the pipeline's request schema (null when none), `step_names` the steps
// the pipeline declares, `path_params` the `{name}` segments of the trigger's path (nullopt:
// no path, nothing checked below request.path). Nothing is said about fields below those the engine defines
// (usage, metadata, headers, sink locations).
std::optional<ReferenceProblem> check_reference(std::string_view path,
                                                const nlohmann::json& request_schema,
                                                const std::vector<std::string>& step_names,
                                                const std::optional<std::vector<std::string>>& path_params = std::nullopt);

}  // namespace imagepipe::config
