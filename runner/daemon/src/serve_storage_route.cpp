#include "serve_storage_route.hpp"

#include <charconv>

#include "imagepipe/engine.hpp"
#include "imagepipe/plugin.hpp"
#include "serve_outcomes.hpp"

namespace imagepipe::serve {

using nlohmann::json;

namespace {

// ETags are quoted strings (RFC 9110 §8.8.3); some stores hand them over bare.
std::string quoted_etag(const std::string& etag) {
  if (etag.empty() || etag.front() == '"' || etag.rfind("W/", 0) == 0) return etag;
  return "\"" + etag + "\"";
}

struct ByteRange {
  std::uint64_t first = 0, last = 0;
};

std::optional<std::uint64_t> number(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// One range of `bytes=a-b`, `bytes=a-` or `bytes=-n` within `size`. Nullopt: the header
// cannot be met (416). Several ranges are answered as the whole object, which RFC 9110
// allows, rather than as multipart.
std::optional<std::optional<ByteRange>> parse_range(std::string_view header, std::uint64_t size) {
  constexpr std::string_view unit = "bytes=";
  if (header.substr(0, unit.size()) != unit) return std::optional<ByteRange>{};
  header.remove_prefix(unit.size());
  if (header.find(',') != std::string_view::npos) return std::optional<ByteRange>{};
  const auto dash = header.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto from = header.substr(0, dash), to = header.substr(dash + 1);
  if (from.empty()) {  // the last n bytes
    const auto n = number(to);
    if (!n || *n == 0 || size == 0) return std::nullopt;
    return ByteRange{size - std::min(*n, size), size - 1};
  }
  const auto first = number(from);
  if (!first || *first >= size) return std::nullopt;
  if (to.empty()) return ByteRange{*first, size - 1};
  const auto last = number(to);
  if (!last || *last < *first) return std::nullopt;
  return ByteRange{*first, std::min(*last, size - 1)};
}

json info_json(const ObjectInfo& info) {
  return {{"key", info.key},
          {"size", info.size},
          {"content_type", info.content_type},
          {"etag", quoted_etag(info.etag)},
          {"last_modified",
           info.last_modified == TimePoint{} ? json(nullptr) : json(iso8601(info.last_modified))},
          {"metadata", info.metadata}};
}

Response storage_error(const Error& e, const std::string& key) {
  switch (e.cls()) {
    case ErrorClass::not_found:
      return error_response(404, "no object '" + key + "'");
    case ErrorClass::invalid_input:
      return error_response(400, "object key '" + key + "': " + e.what());
    default:
      return json_response(failure_status(to_string(e.cls())),
                           {{"error", e.what()}, {"error_class", to_string(e.cls())}});
  }
}

Task<Response> download(Storage& storage, const Request& request, const std::string& key) {
  const auto info = co_await storage.head(key);
  std::string bytes = co_await storage.get(key);
  Response response{
      .status = 200,
      .content_type = info.content_type.empty() ? "application/octet-stream" : info.content_type};
  response.headers["Accept-Ranges"] = "bytes";
  if (!info.etag.empty()) response.headers["ETag"] = quoted_etag(info.etag);
  const auto* range = request.header("range");
  if (!range) {
    response.body = std::move(bytes);
    co_return response;
  }
  const std::uint64_t size = bytes.size();
  const auto wanted = parse_range(*range, size);
  if (!wanted) {
    Response refused = error_response(
        416, "range '" + *range + "' is outside the object's " + std::to_string(size) + " bytes");
    refused.headers["Content-Range"] = "bytes */" + std::to_string(size);
    co_return refused;
  }
  if (!*wanted) {
    response.body = std::move(bytes);
    co_return response;
  }
  const auto [first, last] = **wanted;
  response.status = 206;
  response.body = bytes.substr(first, last - first + 1);
  response.headers["Content-Range"] =
      "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" + std::to_string(size);
  co_return response;
}

}  // namespace

std::unique_ptr<Storage> open_route_storage(const ServedPipeline& served, const Host& host) {
  const auto& route = served.pipeline->trigger.http->storage;
  if (!served.unavailable.empty() || !route || !route->storage || !route->storage->descriptor)
    return nullptr;
  const auto* factory = std::get_if<StorageFactory>(&route->storage->descriptor->factory);
  if (!factory || !*factory) return nullptr;
  PluginArgs args{host, route->storage->with};
  return (*factory)(args);
}

Task<Response> handle_storage_route(const ServedPipeline& served, Storage* storage,
                                    Request& request, PathValues path) {
  const auto& pipeline = *served.pipeline;
  const auto& http = *pipeline.trigger.http;
  if (!storage)
    co_return error_response(
        503,
        "pipeline '" + pipeline.name + "' cannot answer: " +
            (served.unavailable.empty() ? "its storage could not be opened" : served.unavailable));
  std::vector<FieldProblem> problems;
  JobRequest seen;
  seen.path = typed_path_values(path, http.path_params, problems);
  if (!problems.empty()) co_return validation_response(problems);
  for (const auto& [name, value] : request.headers) seen.headers[name] = value;
  seen.query = parse_query(request.query);
  const auto* id = request.header("x-request-id");
  const json scope = {{"request", request_scope(id ? *id : "", seen)}};
  const std::string key = http.storage->key.render_string(scope);
  if (key.empty()) co_return error_response(400, "the object key is empty");

  try {
    switch (http.storage->action) {
      case StorageRoute::Action::info:
        co_return json_response(200, info_json(co_await storage->head(key)));
      case StorageRoute::Action::download:
        co_return co_await download(*storage, request, key);
      case StorageRoute::Action::remove:
        // Asked first, so deleting what is not there is a 404 on every store alike.
        co_await storage->head(key);
        co_await storage->remove(key);
        co_return json_response(200, {{"deleted", key}});
    }
  } catch (const Error& e) {
    co_return storage_error(e, key);
  }
  co_return error_response(500, "unknown storage action");
}

}  // namespace imagepipe::serve
