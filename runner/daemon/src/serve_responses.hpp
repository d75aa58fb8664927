// JSON answers shared by the daemon's routes. Validation errors use the shape FastAPI
// clients (the seeds' service) already parse, plus a one-line `error`:
//   {"error": "body.prompt: field required", "detail": [{"loc": ["body", "prompt"],
//    "msg": "field required", "type": "missing"}]}
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "serve_http.hpp"

namespace imagepipe::serve {

struct FieldProblem {
  std::vector<std::string> loc;  // {"body", "prompt"}, {"header", "callbackUrl"}
  std::string msg;
  std::string type;  // missing | type_error | value_error | json_invalid | ...
};

// Bytes that are not UTF-8 (a client's, quoted in an error) are replaced, never thrown
// over: an answer must always be writable.
inline Response json_response(int status, const nlohmann::json& body) {
  return Response{.status = status,
                  .body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

inline Response error_response(int status, const std::string& message) {
  return json_response(status, {{"error", message}});
}

inline Response validation_response(const std::vector<FieldProblem>& problems) {
  nlohmann::json detail = nlohmann::json::array();
  std::string summary;
  for (const auto& p : problems) {
    std::string where;
    for (const auto& part : p.loc) where += (where.empty() ? "" : ".") + part;
    summary += (summary.empty() ? "" : "; ") + where + ": " + p.msg;
    detail.push_back({{"loc", p.loc}, {"msg", p.msg}, {"type", p.type}});
  }
  return json_response(422, {{"error", summary}, {"detail", detail}});
}

}  // namespace imagepipe::serve
