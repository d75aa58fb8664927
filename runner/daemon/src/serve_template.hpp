// A template route (trigger.http.mode: template): answers the pipeline's rendered
// response body and creates no job, for routes such as a configuration view.
#pragma once

#include "serve_pipelines.hpp"
#include "serve_responses.hpp"

namespace imagepipe::serve {

// 200 with the body; 503 naming the reason when a variable the body needs is unset, as a
// job route that cannot run answers.
Response render_template_route(const ServedPipeline& served);

}  // namespace imagepipe::serve
