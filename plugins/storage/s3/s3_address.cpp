#include "s3_address.hpp"

#include "imagepipe/error.hpp"

namespace imagepipe::s3 {

Addresser::Addresser(const std::string& endpoint, std::string bucket, Addressing addressing)
    : endpoint_(parse_url(endpoint)), bucket_(std::move(bucket)), addressing_(addressing) {
  base_path_ = endpoint_.path();
  while (!base_path_.empty() && base_path_.back() == '/') base_path_.pop_back();
}

Target Addresser::target(const std::string& key, const Params& query) const {
  Target t;
  std::string host = endpoint_.host_header();
  if (addressing_ == Addressing::virtual_hosted) {
    host = bucket_ + "." + host;
    t.path = base_path_ + "/" + url_encode(key, true);
  } else {
    t.path = base_path_ + "/" + url_encode(bucket_, false) +
             (key.empty() ? "" : "/" + url_encode(key, true));
  }
  t.host = host;
  const auto q = canonical_query(query);
  t.url = endpoint_.scheme + "://" + host + t.path + (q.empty() ? "" : "?" + q);
  return t;
}

std::string Addresser::origin() const {
  return endpoint_.scheme + "://" +
         (addressing_ == Addressing::virtual_hosted ? bucket_ + "." : "") + endpoint_.host_header();
}

Addressing choose_addressing(const std::string& mode, const std::string& endpoint,
                             const std::string& bucket) {
  if (mode == "path") return Addressing::path;
  if (mode == "virtual") {
    if (bucket.find('.') != std::string::npos && endpoint.rfind("https:", 0) == 0)
      throw Error(ErrorClass::invalid_input,
                  "s3: bucket '" + bucket +
                      "' contains a dot, which breaks TLS with virtual-hosted addressing; "
                      "use addressing: path");
    return Addressing::virtual_hosted;
  }
  const auto url = parse_url(endpoint);
  const bool aws = url.host.size() > 14 && url.host.ends_with(".amazonaws.com");
  return aws && bucket.find('.') == std::string::npos ? Addressing::virtual_hosted
                                                      : Addressing::path;
}

}  // namespace imagepipe::s3
