// GET /files/<pipeline>/<key>?expires=<unix>&signature=<hex>: the daemon answers the read
// links that `local` storage signs when its options name a `url_base` and `url_secret`
// (see imagepipe/signing.hpp). S3 and Azure sign their own URLs; local files have no
// server but this one.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "imagepipe/host.hpp"
#include "imagepipe/plugin_interfaces.hpp"
#include "serve_pipelines.hpp"
#include "serve_responses.hpp"

namespace imagepipe::serve {

inline constexpr const char* kFilesPrefix = "/files/";

class FileLinks {
 public:
  // One storage instance for each pipeline whose sink is `local` with a url_secret.
  FileLinks(const PipelineSet& pipelines, const Host& host);
  Task<Response> handle(const Request& request);

 private:
  struct Served {
    std::string secret;
    std::unique_ptr<Storage> storage;
  };
  std::map<std::string, Served> by_pipeline_;
};

}  // namespace imagepipe::serve
