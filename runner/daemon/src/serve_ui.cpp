#include "serve_ui.hpp"

#include "serve_responses.hpp"
#include "serve_ui_assets.hpp"

namespace imagepipe::serve {

namespace {

constexpr std::string_view kUi = "/ui";
constexpr std::string_view kDocs = "/docs";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// If-None-Match is a list of entity tags, or "*" (RFC 9110 §13.1.2); weak tags compare
// equal to strong ones for a GET.
bool holds_version(const Request& request, std::string_view etag) {
  const auto* header = request.header("if-none-match");
  if (!header) return false;
  std::string_view list = *header;
  while (!list.empty()) {
    const auto comma = list.find(',');
    auto tag = list.substr(0, comma);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// The file a path names: the pages themselves at their short paths, the rest below /ui/.
std::string_view file_of(std::string_view path) {
  if (path == kUi || path == "/ui/") return "index.html";
  if (path == kDocs || path == "/docs/") return "docs.html";
  if (path.substr(0, 4) == "/ui/") return path.substr(4);
  return {};
}

}  // namespace

std::string_view asset_content_type(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".json", "application/json"},
      {".ico", "image/x-icon"}};
  for (const auto& [extension, type] : kTypes)
    if (ends_with(name, extension)) return type;
  return "application/octet-stream";
}

DashboardPages::DashboardPages() {
  for (const auto& asset : kEmbeddedAssets) files_[asset.name] = {asset.bytes, asset.etag};
}

bool DashboardPages::owns(const std::string& path) {
  const std::string_view p = path;
  return p == kUi || p.substr(0, 4) == "/ui/" || p == kDocs || p == "/docs/";
}

Response DashboardPages::handle(Request& request) const {
  const std::string_view path = request.path;
  const bool page = path == kDocs || path == "/docs/" || path == kUi || path == "/ui/";
  request.route = page ? std::string(path.substr(0, path.find('/', 1))) : "/ui/{file}";
  if (request.method != "GET") {
    auto response = error_response(
        405, "method " + request.method + " is not allowed on " + request.route + "; allowed: GET");
    response.headers["Allow"] = "GET";
    return response;
  }
  const auto found = files_.find(file_of(path));
  if (found == files_.end())
    return error_response(404, "no dashboard file " + std::string(path.substr(0, 200)));
  const auto& [bytes, etag] = found->second;

  Response response{.status = 200, .content_type = std::string(asset_content_type(found->first))};
  if (holds_version(request, etag))
    response.status = 304;
  else
    response.body = std::string(bytes);
  response.headers["ETag"] = std::string(etag);
  // Names carry no version, so a browser asks again each time; the ETag makes that a 304.
  response.headers["Cache-Control"] = "no-cache";
  response.headers["Content-Security-Policy"] = kDashboardCsp;
  response.headers["X-Content-Type-Options"] = "nosniff";
  response.headers["Referrer-Policy"] = "no-referrer";
  response.headers["X-Frame-Options"] = "DENY";
  return response;
}

}  // namespace imagepipe::serve
