// The dashboard's pages: GET /ui (the jobs list, a job, a form per trigger) and GET /docs
// (the OpenAPI document, with "try it"), plus the files they load from /ui/. All of them
// are compiled into the binary (serve_ui_assets.hpp); a path that is not one of those
// files is a 404, so nothing under /ui reaches the file system.
//
// The pages hold no data and are the same for everyone, so they are served without
// credentials even when auth is on: what they show comes from the API (GET /jobs, ...),
// and each of those requests carries the key the page asks for, behind the same auth as
// any client's.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "serve_http.hpp"

namespace imagepipe::serve {

// By extension; application/octet-stream for an unknown one.
std::string_view asset_content_type(std::string_view name);

// Browsers run the dashboard's scripts under this policy: its own files only, no inline
// script or style, no frames, images from itself or from the blob: URLs the page makes of
// the thumbnails it fetched with its key.
inline constexpr const char* kDashboardCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

class DashboardPages {
 public:
  DashboardPages();

  // /ui, /ui/..., /docs, /docs/
  static bool owns(const std::string& path);
  // Sets request.route (for metrics) and answers: 200 with the file, 304 when the client
  // holds the same version (If-None-Match), 404 for a path that is not a file here.
  Response handle(Request& request) const;

 private:
  // name → bytes, ETag
  std::map<std::string_view, std::pair<std::string_view, std::string_view>> files_;
};

}  // namespace imagepipe::serve
