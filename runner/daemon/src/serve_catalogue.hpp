// A job route's catalogue route (`trigger.http.catalogue`): the enabled alternatives of one
// step, each with its `describe:` fields, what it accepts (supported_sizes, max_images)
// and the chain entry that answers first under the current configuration, so a
// deployment without a provider's key says it runs on the next entry (a placeholder).
#pragma once

#include <nlohmann/json.hpp>

#include "serve_pipelines.hpp"

namespace imagepipe::serve {

nlohmann::json catalogue_body(const Pipeline& pipeline);

}  // namespace imagepipe::serve
