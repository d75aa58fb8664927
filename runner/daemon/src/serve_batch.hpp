// A job route's batch route (`trigger.http.batch`): a JSON array of requests, each judged
// exactly as a body of the route itself (schema, provider limits), all refused together
// with each problem's index when any is wrong, else each stored as its own job and run at
// once. A sync route answers 200 with the array of each job's own answer body, in order;
// an async one 202 with their ids.
#pragma once

#include "serve_trigger.hpp"

namespace imagepipe::serve {

Task<Response> handle_batch(const ServedPipeline& served, Request& request,
                            TriggerContext& context);

}  // namespace imagepipe::serve
