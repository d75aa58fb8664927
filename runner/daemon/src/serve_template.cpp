#include "serve_template.hpp"

namespace imagepipe::serve {

Response render_template_route(const ServedPipeline& served) {
  if (!served.ready())
    return error_response(
        503, "pipeline '" + served.pipeline->name + "' cannot answer: " + served.unavailable);
  // The loader admits only environment values, already expanded: nothing is in scope.
  return json_response(200,
                       served.pipeline->trigger.response_body.render(nlohmann::json::object()));
}

}  // namespace imagepipe::serve
