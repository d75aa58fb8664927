// Storage `s3`: AWS S3 and S3-compatible stores (IBM Cloud Object Storage, MinIO,
// s3rver) through the host's HTTP client, signed with SigV4 (sigv4.hpp).
#include <algorithm>
#include <cstdlib>
#include <random>

#include "imagepipe/once.hpp"
#include "imagepipe/plugin.hpp"
#include "imagepipe/retry.hpp"
#include "s3_address.hpp"
#include "s3_errors.hpp"
#include "s3_xml.hpp"
#include "sigv4.hpp"

using nlohmann::json;

namespace imagepipe::s3 {
namespace {

// A sink write retried by the plugin itself (the engine does not retry sinks): 200-400 ms,
// then doubling up to 10 s.
constexpr std::chrono::milliseconds kRetryBase{400};
constexpr std::chrono::milliseconds kRetryMax{10'000};

constexpr const char* kBucket = "bucket";
constexpr const char* kRegion = "region";
constexpr const char* kEndpoint = "endpoint";
constexpr const char* kAddressing = "addressing";
constexpr const char* kAccessKeyId = "access_key_id";
constexpr const char* kSecretAccessKey = "secret_access_key";
constexpr const char* kSessionToken = "session_token";
constexpr const char* kPublicBaseUrl = "public_base_url";
constexpr const char* kMultipartThreshold = "multipart_threshold";
constexpr const char* kPartSize = "part_size";
constexpr const char* kMaxAttempts = "max_attempts";
constexpr const char* kTimeout = "timeout_seconds";
constexpr const char* kCreateBucket = "create_bucket";

constexpr std::int64_t kMiB = 1024 * 1024;
constexpr std::chrono::seconds kMaxPresign{604800};  // SigV4's limit: 7 days

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string option_or_env(const json& options, const char* key,
                          std::initializer_list<const char*> vars) {
  if (auto it = options.find(key);
      it != options.end() && it->is_string() && !it->get<std::string>().empty())
    return it->get<std::string>();
  for (const char* var : vars)
    if (auto v = env(var); !v.empty()) return v;
  return {};
}

// Metadata values travel in headers, which are ASCII: anything else is sent as an RFC 2047
// encoded word (as the AWS SDKs document) and decoded again on the way back.
bool plain_ascii(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
}
std::string encode_meta_value(const std::string& v) {
  return plain_ascii(v) ? v : "=?UTF-8?B?" + base64_encode(v) + "?=";
}
std::string decode_meta_value(const std::string& v) {
  if (v.size() > 12 && v.rfind("=?UTF-8?B?", 0) == 0 && v.ends_with("?=")) {
    try {
      return base64_decode(v.substr(10, v.size() - 12));
    } catch (const Error&) {
    }
  }
  return v;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

ObjectInfo info_from_headers(const std::string& key, const HttpResponse& r) {
  ObjectInfo info;
  info.key = key;
  if (auto v = r.header("content-length")) info.size = std::strtoull(v->c_str(), nullptr, 10);
  info.content_type = r.header("content-type").value_or("");
  info.etag = r.header("etag").value_or("");
  if (auto v = r.header("last-modified"))
    info.last_modified = parse_http_date(*v).value_or(std::chrono::system_clock::time_point{});
  for (const auto& [name, value] : r.headers) {
    auto n = lower(name);
    if (n.rfind("x-amz-meta-", 0) == 0) info.metadata[n.substr(11)] = decode_meta_value(value);
  }
  return info;
}

// One S3 call before signing: the key is raw, the query decoded.
struct Call {
  const char* operation;
  std::string method;
  std::string key;
  Params query;
  Headers headers;
  std::shared_ptr<const std::string> body;
  std::size_t offset = 0;  // the body is body->substr(offset, length): multipart parts
  std::size_t length = 0;
  std::vector<std::string> accepted_codes;  // error codes that count as success
};

class S3Storage final : public Storage {
 public:
  explicit S3Storage(const PluginArgs& args)
      : host_(args.host),
        region_(option_or_env(args.options, kRegion, {"AWS_REGION", "AWS_DEFAULT_REGION"})),
        addresser_(make_addresser(args.options, region_)),
        public_base_(args.options.value(kPublicBaseUrl, "")),
        multipart_threshold_(args.options.at(kMultipartThreshold).get<std::int64_t>()),
        part_size_(args.options.at(kPartSize).get<std::int64_t>()),
        max_attempts_(args.options.at(kMaxAttempts).get<int>()),
        timeout_(std::chrono::seconds(args.options.at(kTimeout).get<int>())),
        create_bucket_(args.options.at(kCreateBucket).get<bool>()) {
    creds_.access_key_id = option_or_env(args.options, kAccessKeyId, {"AWS_ACCESS_KEY_ID"});
    creds_.secret_access_key =
        option_or_env(args.options, kSecretAccessKey, {"AWS_SECRET_ACCESS_KEY"});
    creds_.session_token = option_or_env(args.options, kSessionToken, {"AWS_SESSION_TOKEN"});
    if (creds_.access_key_id.empty() || creds_.secret_access_key.empty())
      throw Error(ErrorClass::unauthorized,
                  "s3: no credentials for bucket '" + addresser_.bucket() +
                      "': set access_key_id and secret_access_key, or AWS_ACCESS_KEY_ID and "
                      "AWS_SECRET_ACCESS_KEY");
  }

  Task<ObjectInfo> put(std::string key, std::shared_ptr<const std::string> data,
                       PutOptions options) override {
    check_key(key);
    Headers headers;
    if (!options.content_type.empty()) headers.emplace_back("Content-Type", options.content_type);
    for (const auto& [name, value] : options.metadata) {
      check_meta_name(name);
      headers.emplace_back("x-amz-meta-" + lower(name), encode_meta_value(value));
    }
    if (static_cast<std::int64_t>(data->size()) > multipart_threshold_)
      co_return co_await put_multipart(key, data, headers, options);
    Call call{"PutObject", "PUT", key, {}, headers, data, 0, data->size()};
    auto r = co_await send_write(std::move(call));
    ObjectInfo info;
    info.key = key;
    info.size = data->size();
    info.content_type = options.content_type;
    info.etag = r.header("etag").value_or("");
    info.metadata = options.metadata;
    info.last_modified = host_.clock->now();
    co_return info;
  }

  Task<std::string> get(std::string key) override {
    check_key(key);
    Call call{"GetObject", "GET", key, {}, {}, nullptr};
    auto r = co_await send(std::move(call));
    co_return std::move(r.body);
  }

  Task<ObjectInfo> head(std::string key) override {
    check_key(key);
    Call call{"HeadObject", "HEAD", key, {}, {}, nullptr};
    auto r = co_await send(std::move(call));
    co_return info_from_headers(key, r);
  }

  Task<ListPage> list(std::string prefix, std::string token, int max_keys) override {
    Params query{{"list-type", "2"},
                 {"encoding-type", "url"},
                 {"max-keys", std::to_string(std::clamp(max_keys, 1, 1000))}};
    if (!prefix.empty()) query.emplace_back("prefix", prefix);
    if (!token.empty()) query.emplace_back("continuation-token", token);
    Call call{"ListObjectsV2", "GET", "", std::move(query), {}, nullptr};
    auto r = co_await send(std::move(call));
    co_return parse_list(r.body);
  }

  // S3 answers 204 whether or not the key existed.
  Task<void> remove(std::string key) override {
    check_key(key);
    Call call{"DeleteObject", "DELETE", key, {}, {}, nullptr};
    co_await send(std::move(call));
  }

  Task<std::string> presign(std::string key, std::chrono::seconds expires) override {
    check_key(key);
    co_return presigned_url(key, expires);
  }

  // The CDN's address when one is configured, else the object's own (readable when the
  // bucket allows public reads): https://bucket.s3.region.amazonaws.com/key, as seed 002.
  std::string public_url(const std::string& key) const override {
    if (public_base_.empty()) return addresser_.target(key, {}).url;
    return public_base_ + (public_base_.back() == '/' ? "" : "/") + url_encode(key, true);
  }

  json location() const override {
    return {{"storage", "s3"},
            {"bucket", addresser_.bucket()},
            {"region", region_},
            {"endpoint", addresser_.origin()}};
  }

  std::string presigned_url(const std::string& key, std::chrono::seconds expires) const {
    if (expires.count() < 1 || expires > kMaxPresign)
      throw Error(ErrorClass::invalid_input,
                  "s3: a presigned URL must expire within 1 to 604800 seconds (7 days); " +
                      std::to_string(expires.count()) + " s was asked");
    auto t = addresser_.target(key, {});
    SignInput in;
    in.method = "GET";
    in.path = t.path;
    in.headers = {{"host", t.host}};
    in.region = region_;
    in.timestamp = amz_timestamp(host_.clock->now());
    return t.url + "?" + presign_query(std::move(in), creds_, expires);
  }

 private:
  static Addresser make_addresser(const json& options, std::string& region) {
    if (region.empty()) region = "us-east-1";
    const auto bucket = options.at(kBucket).get<std::string>();
    std::string endpoint = options.value(kEndpoint, "");
    if (endpoint.empty()) endpoint = "https://s3." + region + ".amazonaws.com";
    if (endpoint.find("://") == std::string::npos) endpoint = "https://" + endpoint;
    return Addresser(
        endpoint, bucket,
        choose_addressing(options.at(kAddressing).get<std::string>(), endpoint, bucket));
  }

  static void check_key(const std::string& key) {
    if (key.empty()) throw Error(ErrorClass::invalid_input, "s3: an object key cannot be empty");
    if (key.size() > 1024)
      throw Error(ErrorClass::invalid_input, "s3: object keys are at most 1024 bytes");
  }

  static void check_meta_name(const std::string& name) {
    const bool ok = !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
      return std::isalnum(c) || c == '-' || c == '_';
    });
    if (!ok)
      throw Error(ErrorClass::invalid_input,
                  "s3: metadata name '" + name + "' must be letters, digits, '-' or '_'");
  }

  Task<ObjectInfo> put_multipart(std::string key, std::shared_ptr<const std::string> data,
                                 Headers headers, PutOptions options) {
    Call create{"CreateMultipartUpload", "POST", key, {{"uploads", ""}}, headers, nullptr};
    auto created = co_await send_write(std::move(create));
    const auto upload_id = parse_upload_id(created.body);
    std::optional<Error> failure;
    std::string etag;
    try {
      std::vector<std::pair<int, std::string>> parts;
      const auto part = static_cast<std::size_t>(part_size_);
      for (std::size_t offset = 0, n = 1; offset < data->size(); offset += part, ++n) {
        Call upload{"UploadPart", "PUT",
                    key,          {{"partNumber", std::to_string(n)}, {"uploadId", upload_id}},
                    {},           data,
                    offset,       std::min(part, data->size() - offset)};
        auto r = co_await send(std::move(upload));
        auto part_etag = r.header("etag");
        if (!part_etag)
          throw Error(ErrorClass::unavailable,
                      "S3 UploadPart: no ETag in the reply for part " + std::to_string(n));
        parts.emplace_back(static_cast<int>(n), *part_etag);
      }
      auto body = std::make_shared<const std::string>(complete_body(parts));
      Call complete{"CompleteMultipartUpload",
                    "POST",
                    key,
                    {{"uploadId", upload_id}},
                    {{"Content-Type", "application/xml"}},
                    body,
                    0,
                    body->size()};
      auto r = co_await send(std::move(complete));
      // A 200 can still carry an <Error>: S3 streams the reply while it assembles the parts.
      if (auto e = parse_error(r.body); !e.code.empty()) {
        HttpResponse as_error = r;
        as_error.status = class_for(e.code, 500) == ErrorClass::unavailable ? 500 : 400;
        throw to_error(as_error, "CompleteMultipartUpload", addresser_.bucket(), key);
      }
      etag = r.header("etag").value_or("");
    } catch (const Error& e) {
      failure = e;
    }
    if (failure) {
      co_await abort_upload(key, upload_id);
      throw *failure;
    }
    ObjectInfo info;
    info.key = key;
    info.size = data->size();
    info.content_type = options.content_type;
    info.etag = etag;
    info.metadata = options.metadata;
    info.last_modified = host_.clock->now();
    co_return info;
  }

  // Frees the parts already stored. Best effort: the upload error is what the caller needs
  // to see (s3rver, for one, answers Abort with 405).
  Task<void> abort_upload(std::string key, std::string upload_id) {
    Call abort{"AbortMultipartUpload", "DELETE", key, {{"uploadId", upload_id}}, {}, nullptr};
    try {
      co_await send_once(std::move(abort));
    } catch (const Error& e) {
      if (host_.log)
        host_.log->warn("s3: could not abort multipart upload of '{}': {}", key, e.what());
    }
  }

  // The first write of an upload, which may find the bucket missing: with create_bucket
  // it creates the bucket (once for all the uploads that find it missing together) and
  // goes once more. PutObject and CreateMultipartUpload answer not_found for nothing else.
  // The bucket is created here rather than at construction so that a bucket that exists
  // costs no request, and credentials without s3:CreateBucket still work for it.
  Task<HttpResponse> send_write(Call call) {
    try {
      Call copy = call;
      co_return co_await send(std::move(copy));
    } catch (const Error& e) {
      if (!create_bucket_ || e.cls() != ErrorClass::not_found) throw;
    }
    co_await bucket_once_.run([this]() { return create_bucket(); });
    co_return co_await send(std::move(call));
  }

  // CreateBucket in the signing region. "Already exists" and "already owned by you" are
  // success: another process, or another of our uploads, got there first. (AWS answers
  // BucketAlreadyExists when another account owns the name; the upload that follows then
  // fails with AccessDenied, naming the bucket.)
  Task<void> create_bucket() {
    auto body = std::make_shared<const std::string>(create_bucket_body(region_));
    Headers headers;
    if (!body->empty()) headers.emplace_back("Content-Type", "application/xml");
    Call call{"CreateBucket", "PUT", "",          {},
              headers,        body,  0,           body->size(),
              {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}};
    auto r = co_await send(std::move(call));
    if (host_.log)
      host_.log->info("s3: bucket '{}' in {} {}", addresser_.bucket(), region_,
                      r.status < 300 ? "created" : "already exists");
  }

  // Retries what the error class says may pass (SlowDown, 503, resets), with exponential
  // backoff and jitter, or the server's Retry-After.
  Task<HttpResponse> send(Call call) {
    for (int attempt = 1;; ++attempt) {
      std::optional<Error> failure;
      try {
        Call copy = call;
        co_return co_await send_once(std::move(copy));
      } catch (const Error& e) {
        if (!is_retryable(e.cls()) || attempt >= max_attempts_) throw;
        failure = e;
      }
      const auto backoff = backoff_delay(kRetryBase, kRetryMax, attempt, failure->retry_after());
      if (host_.log)
        host_.log->info("s3: {} (attempt {}), retrying in {} ms", failure->what(), attempt,
                        backoff.count());
      co_await host_.clock->sleep_for(backoff);
    }
  }

  Task<HttpResponse> send_once(Call call) {
    std::string body;
    if (call.body) body.assign(*call.body, call.offset, call.length);
    std::string payload_hash;
    if (body.size() > 64 * 1024) {
      // Hashing megabytes is CPU work: keep it off the I/O threads.
      payload_hash = co_await host_.cpu->run([&] { return sha256_hex(body); });
    } else {
      payload_hash = sha256_hex(body);
    }
    auto t = addresser_.target(call.key, call.query);
    SignInput in;
    in.method = call.method;
    in.path = t.path;
    in.query = call.query;
    in.headers = call.headers;
    in.headers.emplace_back("host", t.host);
    in.headers.emplace_back("x-amz-content-sha256", payload_hash);
    in.timestamp = amz_timestamp(host_.clock->now());
    in.headers.emplace_back("x-amz-date", in.timestamp);
    if (!creds_.session_token.empty())
      in.headers.emplace_back("x-amz-security-token", creds_.session_token);
    in.payload_hash = payload_hash;
    in.region = region_;
    const auto s = sign(in, creds_);

    HttpRequest req;
    req.method = call.method;
    req.url = t.url;
    for (auto& h : in.headers)
      if (h.first != "host") req.headers.push_back(std::move(h));
    req.headers.emplace_back("Authorization", s.authorization);
    req.body = std::move(body);
    req.timeout = timeout_;
    req.max_redirects = 0;  // a redirect means the wrong region: report it
    auto response = co_await host_.http->send(std::move(req));
    if (response.status >= 300 && !call.accepted_codes.empty() &&
        std::ranges::count(call.accepted_codes, parse_error(response.body).code) > 0)
      co_return response;
    if (response.status >= 300)
      throw to_error(response, call.operation, addresser_.bucket(), call.key);
    co_return response;
  }

  const Host& host_;
  std::string region_;
  Addresser addresser_;
  Credentials creds_;
  std::string public_base_;
  std::int64_t multipart_threshold_;
  std::int64_t part_size_;
  int max_attempts_;
  std::chrono::milliseconds timeout_;
  bool create_bucket_;
  AsyncOnce bucket_once_;
};

}  // namespace
}  // namespace imagepipe::s3

IMAGEPIPE_PLUGIN_SELF() {
  using namespace imagepipe;
  using namespace imagepipe::s3;
  PluginDescriptor d;
  d.version = "1.0.0";
  d.summary = "AWS S3 and S3-compatible stores (IBM Cloud Object Storage, MinIO).";
  d.description =
      "Objects in a bucket, signed with AWS Signature Version 4. Uploads larger than "
      "`multipart_threshold` go up in parts (aborted on failure). Credentials come from the "
      "options, "
      "else from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; the region from "
      "the options, else AWS_REGION or AWS_DEFAULT_REGION, else us-east-1. Presigned URLs last at "
      "most 7 days. SlowDown, 5xx and connection failures are retried with backoff. With "
      "`create_bucket`, an upload that finds the bucket missing creates it first.";
  // Secrets are writeOnly: the core redacts them from logs, errors and descriptions.
  auto secret = [](const char* description) {
    return json{{"type", "string"}, {"writeOnly", true}, {"description", description}};
  };
  d.options_schema = {
      {"type", "object"},
      {"additionalProperties", false},
      {"required", {kBucket}},
      {"properties",
       {{kBucket,
         {{"type", "string"},
          {"minLength", 3},
          {"maxLength", 63},
          {"description", "Bucket name."},
          {"examples", {"my-images"}}}},
        {kRegion,
         {{"type", "string"},
          {"description", "Signing region (COS: the bucket's location, e.g. eu-de)."},
          {"examples", {"eu-west-1", "eu-de"}}}},
        {kEndpoint,
         {{"type", "string"},
          {"description",
           "Service URL; default https://s3.{region}.amazonaws.com. IBM COS: "
           "https://s3.{region}.cloud-object-storage.appdomain.cloud; MinIO: http://host:9000."},
          {"examples",
           {"https://s3.eu-de.cloud-object-storage.appdomain.cloud", "http://127.0.0.1:9000"}}}},
        {kAddressing,
         {{"type", "string"},
          {"enum", {"auto", "path", "virtual"}},
          {"default", "auto"},
          {"description",
           "virtual: https://bucket.endpoint/key; path: https://endpoint/bucket/key. auto: "
           "virtual for *.amazonaws.com when the bucket has no dot, else path."}}},
        {kAccessKeyId,
         {{"type", "string"},
          {"description", "Default: $AWS_ACCESS_KEY_ID (COS: HMAC access_key_id)."}}},
        {kSecretAccessKey, secret("Default: $AWS_SECRET_ACCESS_KEY.")},
        {kSessionToken, secret("Temporary credentials; default: $AWS_SESSION_TOKEN.")},
        {kPublicBaseUrl,
         {{"type", "string"},
          {"description", "Base URL of a CDN or public bucket, for `url: public`; without it the object's own URL (public when the bucket allows reads)."},
          {"examples", {"https://cdn.example.com"}}}},
        {kMultipartThreshold,
         {{"type", "integer"},
          {"minimum", 5 * kMiB},
          {"default", 16 * kMiB},
          {"description", "Objects larger than this many bytes are uploaded in parts."}}},
        {kPartSize,
         {{"type", "integer"},
          {"minimum", 5 * kMiB},
          {"maximum", 5120 * kMiB},
          {"default", 8 * kMiB},
          {"description", "Bytes per part of a multipart upload (S3's minimum is 5 MiB)."}}},
        {kMaxAttempts,
         {{"type", "integer"},
          {"minimum", 1},
          {"maximum", 10},
          {"default", 3},
          {"description", "Attempts per request when S3 is busy or unreachable."}}},
        {kTimeout,
         {{"type", "integer"},
          {"minimum", 1},
          {"default", 300},
          {"description", "Deadline of one request, in seconds."}}},
        {kCreateBucket,
         {{"type", "boolean"},
          {"default", false},
          {"description",
           "Create the bucket when an upload finds it missing (CreateBucket in `region`, with "
           "that region as its LocationConstraint unless us-east-1), once however many uploads "
           "find it missing together; a bucket that already exists counts as created. Without "
           "it a missing bucket is a `not_found` error naming the bucket. Reads never create "
           "it."}}}}}};
  d.examples = {{{kBucket, "my-images"}, {kRegion, "eu-west-1"}},
                {{kBucket, "seed-results"},
                 {kRegion, "eu-de"},
                 {kEndpoint, "https://s3.eu-de.cloud-object-storage.appdomain.cloud"},
                 {kAccessKeyId, "${COS_ACCESS_KEY_ID}"},
                 {kSecretAccessKey, "${COS_SECRET_ACCESS_KEY}"},
                 {kPublicBaseUrl, "https://cdn.example.com"}},
                {{kBucket, "images"}, {kEndpoint, "http://127.0.0.1:9000"}, {kAddressing, "path"}},
                {{kBucket, "generated-images"}, {kRegion, "eu-west-1"}, {kCreateBucket, true}}};
  d.factory =
      StorageFactory{[](const PluginArgs& args) { return std::make_unique<S3Storage>(args); }};
  return d;
}
