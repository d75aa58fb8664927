// trigger.http.mode: storage: routes over a storage plugin that run no job (an image's
// metadata, its bytes, its removal), the same on local, s3 and azure-blob since they only
// use the Storage interface. The object's key is the route's template rendered with the
// request (path parameters, query), so `/images/{id}` can name `images/${request.path.id}.png`.
#pragma once

#include <memory>

#include "serve_pipelines.hpp"
#include "serve_responses.hpp"
#include "serve_trigger.hpp"

namespace imagepipe::serve {

// The route's storage, or null when the pipeline cannot run (then the route answers 503).
std::unique_ptr<Storage> open_route_storage(const ServedPipeline& served, const Host& host);

// info: 200 {key, size, content_type, etag, last_modified, metadata}; download: the bytes
// with their content type and ETag, a `Range: bytes=` request answered 206 (416 when it
// cannot be met); delete: 200 {"deleted": key}. A missing object is 404.
Task<Response> handle_storage_route(const ServedPipeline& served, Storage* storage,
                                    Request& request, PathValues path);

}  // namespace imagepipe::serve
