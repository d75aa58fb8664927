// Routes with parameters: `/api/v1/images/{image_id}` matches `/api/v1/images/abc` (one
// whole segment per parameter, percent-decoded), and each value is judged by the schema
// trigger.http.path_params gives it. A path with a segment too many or too few is no
// match (404), never a route with a parameter missing.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "serve_responses.hpp"

namespace imagepipe::serve {

class PathPattern {
 public:
  explicit PathPattern(std::string pattern);
  bool templated() const { return templated_; }
  const std::string& text() const { return text_; }
  // The parameters' values by name when `path` matches; nullopt otherwise.
  std::optional<std::map<std::string, std::string>> match(std::string_view path) const;

 private:
  struct Segment {
    std::string text;  // the literal, or the parameter's name
    bool parameter = false;
  };
  std::string text_;
  std::vector<Segment> segments_;
  bool templated_ = false;
};

// The values typed as their schemas say (`type: integer` makes "42" the number 42), each
// checked against its schema; a value that fails is a problem at {"path", name}.
nlohmann::json typed_path_values(const std::map<std::string, std::string>& values,
                                 const std::map<std::string, nlohmann::json>& schemas,
                                 std::vector<FieldProblem>& problems);

}  // namespace imagepipe::serve
