#include "serve_files.hpp"

#include <charconv>

#include "imagepipe/plugin.hpp"
#include "imagepipe/signing.hpp"

namespace imagepipe::serve {

namespace {

// Paths are percent-decoded here ('+' is a plus in a path); nullopt for a malformed escape.
std::optional<std::string> path_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    unsigned value = 0;
    if (i + 2 >= s.size()) return std::nullopt;
    const auto* first = s.data() + i + 1;
    if (std::from_chars(first, first + 2, value, 16).ptr != first + 2) return std::nullopt;
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

std::string query_value(const std::string& query, const std::string& name) {
  std::size_t start = 0;
  while (start < query.size()) {
    auto end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    const std::string_view pair(query.data() + start, end - start);
    if (pair.substr(0, name.size() + 1) == name + "=")
      return std::string(pair.substr(name.size() + 1));
    start = end + 1;
  }
  return {};
}

Response forbidden(const std::string& why) { return error_response(403, why); }

}  // namespace

FileLinks::FileLinks(const PipelineSet& pipelines, const Host& host) {
  for (const auto& served : pipelines.all) {
    const auto& storage = served->pipeline->sink.storage;
    if (!storage || storage->use != "local" || !storage->descriptor) continue;
    const std::string secret = storage->with.value("url_secret", "");
    if (secret.empty()) continue;
    const auto* factory = std::get_if<StorageFactory>(&storage->descriptor->factory);
    if (!factory || !*factory) continue;
    PluginArgs args{host, storage->with};
    by_pipeline_[served->pipeline->name] = Served{secret, (*factory)(args)};
  }
}

Task<Response> FileLinks::handle(const Request& request) {
  const std::string_view rest =
      std::string_view(request.path).substr(std::string_view(kFilesPrefix).size());
  const auto slash = rest.find('/');
  const std::string pipeline(rest.substr(0, slash));
  const auto it = by_pipeline_.find(pipeline);
  if (slash == std::string_view::npos || it == by_pipeline_.end())
    co_return error_response(404, "no signed files are served for pipeline '" + pipeline + "'");
  const auto key = path_decode(rest.substr(slash + 1));
  if (!key || key->empty()) co_return error_response(400, "malformed file key in " + request.path);

  const std::string expires_text = query_value(request.query, "expires");
  const std::string signature = query_value(request.query, "signature");
  std::int64_t expires = 0;
  const auto* end = expires_text.data() + expires_text.size();
  if (expires_text.empty() || signature.empty() ||
      std::from_chars(expires_text.data(), end, expires).ptr != end)
    co_return forbidden("a file link needs its expires and signature parameters");
  if (!storage_link_signature_matches(it->second.secret, *key, expires, signature))
    co_return forbidden("the link's signature does not match");
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  if (now > expires)
    co_return forbidden("the link expired " + std::to_string(now - expires) + " s ago");

  auto& storage = *it->second.storage;
  Response response;
  try {
    const std::string wanted = *key;
    auto info = co_await storage.head(wanted);
    response.body = co_await storage.get(wanted);
    response.content_type =
        info.content_type.empty() ? "application/octet-stream" : info.content_type;
  } catch (const Error& e) {
    if (e.cls() == ErrorClass::not_found) co_return error_response(404, "no file '" + *key + "'");
    if (e.cls() == ErrorClass::invalid_input) co_return error_response(400, e.what());
    throw;
  }
  response.headers["Cache-Control"] = "private, max-age=" + std::to_string(expires - now);
  co_return response;
}

}  // namespace imagepipe::serve
