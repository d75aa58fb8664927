// Where a request goes: path-style (https://endpoint/bucket/key) or virtual-hosted
// (https://bucket.endpoint/key). The Host header and the canonical URI are derived here
// together with the URL, so what is signed is what is sent.
#pragma once

#include <string>

#include "imagepipe/url.hpp"
#include "sigv4.hpp"

namespace imagepipe::s3 {

enum class Addressing { path, virtual_hosted };

struct Target {
  std::string url;   // full URL with the query string
  std::string host;  // Host header value: host[:port], the port only when not the default
  std::string path;  // canonical URI (encoded once)
};

class Addresser {
 public:
  // `endpoint` like "https://s3.eu-de.cloud-object-storage.appdomain.cloud" or
  // "http://127.0.0.1:4568"; a path in it ("https://host/base") is kept as a prefix.
  Addresser(const std::string& endpoint, std::string bucket, Addressing addressing);

  // key empty: the bucket itself (ListObjectsV2).
  Target target(const std::string& key, const Params& query) const;
  const std::string& bucket() const { return bucket_; }
  Addressing addressing() const { return addressing_; }
  std::string origin() const;  // for messages: scheme://host[:port]

 private:
  Url endpoint_;
  std::string base_path_;  // endpoint's path without a trailing '/'
  std::string bucket_;
  Addressing addressing_;
};

// Virtual-hosted for AWS's own endpoints when the bucket name is DNS- and TLS-safe (no
// dots); path-style everywhere else (MinIO, s3rver, IP addresses, custom ports).
Addressing choose_addressing(const std::string& mode, const std::string& endpoint,
                             const std::string& bucket);

}  // namespace imagepipe::s3
