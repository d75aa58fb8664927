// GET /providers: the provider plugins the served pipelines use, with what each declares
// it can do (operations, sizes, images per request, seed/style/quality, typical latency)
// and how each pipeline's chain uses it (position, fall-through classes, limits, retries).
#pragma once

#include <nlohmann/json.hpp>

#include "serve_pipelines.hpp"

namespace imagepipe::serve {

nlohmann::json providers_listing(const PipelineSet& pipelines);

}  // namespace imagepipe::serve
