// Storage `azure-blob`: block blobs in one container, authorised with Shared Key, read
// through service SAS URLs. Works against Azure and Azurite.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "azure_xml.hpp"
#include "connection_string.hpp"
#include "imagepipe/once.hpp"
#include "imagepipe/plugin.hpp"
#include "imagepipe/retry.hpp"
#include "imagepipe/url.hpp"
#include "shared_key.hpp"

using nlohmann::json;

namespace imagepipe::azure {
namespace {

// A sink write retried by the plugin itself (the engine does not retry sinks): 200-400 ms,
// then doubling up to 10 s.
constexpr std::chrono::milliseconds kRetryBase{400};
constexpr std::chrono::milliseconds kRetryMax{10'000};

constexpr const char* kContainer = "container";
constexpr const char* kConnectionString = "connection_string";
constexpr const char* kAccountName = "account_name";
constexpr const char* kAccountKey = "account_key";
constexpr const char* kEndpoint = "endpoint";
constexpr const char* kPublicBaseUrl = "public_base_url";
constexpr const char* kBlockThreshold = "block_threshold";
constexpr const char* kBlockSize = "block_size";
constexpr const char* kMaxAttempts = "max_attempts";
constexpr const char* kTimeout = "timeout_seconds";
constexpr const char* kCreateContainer = "create_container";

constexpr std::int64_t kMiB = 1024 * 1024;
constexpr std::chrono::seconds kMaxSas{604800};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Options first, then the variables the Azure CLI and SDKs read.
Account resolve_account(const json& o) {
  Account a;
  const auto cs = o.value(kConnectionString, "");
  if (!cs.empty()) {
    a = parse_connection_string(cs);
  } else if (!o.value(kAccountName, "").empty()) {
    a.name = o.value(kAccountName, "");
    a.key = o.value(kAccountKey, "");
  } else if (auto env_cs = env("AZURE_STORAGE_CONNECTION_STRING"); !env_cs.empty()) {
    a = parse_connection_string(env_cs);
  } else {
    a.name = env("AZURE_STORAGE_ACCOUNT");
    a.key = env("AZURE_STORAGE_KEY");
  }
  if (a.name.empty() || a.key.empty())
    throw Error(
        ErrorClass::unauthorized,
        "azure-blob: no credentials: set connection_string, or account_name and account_key, or "
        "AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY");
  try {
    if (base64_decode(a.key).empty()) throw Error(ErrorClass::invalid_input, "");
  } catch (const Error&) {
    throw Error(ErrorClass::invalid_input,
                "azure-blob: the account key of '" + a.name + "' is not base64");
  }
  if (auto ep = o.value(kEndpoint, ""); !ep.empty()) a.endpoint = ep;
  if (a.endpoint.empty()) a.endpoint = default_endpoint(a.name);
  while (!a.endpoint.empty() && a.endpoint.back() == '/') a.endpoint.pop_back();
  return a;
}

bool plain_ascii(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
}
// Header values are ASCII; other text is stored as an RFC 2047 encoded word.
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

struct Call {
  std::string operation;
  std::string method;
  std::string blob;  // empty: the container
  Pairs query;
  Pairs headers;
  std::shared_ptr<const std::string> body;
  std::size_t offset = 0;
  std::size_t length = 0;
  std::vector<std::string> accepted_codes;  // error codes that count as success
};

class AzureBlobStorage final : public Storage {
 public:
  explicit AzureBlobStorage(const PluginArgs& args)
      : host_(args.host),
        account_(resolve_account(args.options)),
        endpoint_(parse_url(account_.endpoint)),
        container_(args.options.at(kContainer).get<std::string>()),
        public_base_(args.options.value(kPublicBaseUrl, "")),
        block_threshold_(args.options.at(kBlockThreshold).get<std::int64_t>()),
        block_size_(args.options.at(kBlockSize).get<std::int64_t>()),
        max_attempts_(args.options.at(kMaxAttempts).get<int>()),
        timeout_(std::chrono::seconds(args.options.at(kTimeout).get<int>())),
        create_container_(args.options.at(kCreateContainer).get<bool>()) {
    base_path_ = endpoint_.path();
    while (!base_path_.empty() && base_path_.back() == '/') base_path_.pop_back();
  }

  Task<ObjectInfo> put(std::string key, std::shared_ptr<const std::string> data,
                       PutOptions options) override {
    check_key(key);
    Pairs meta;
    for (const auto& [name, value] : options.metadata) {
      check_meta_name(name);
      meta.emplace_back("x-ms-meta-" + name, encode_meta_value(value));
    }
    std::string etag;
    if (static_cast<std::int64_t>(data->size()) > block_threshold_) {
      etag = co_await put_blocks(key, data, options.content_type, meta);
    } else {
      Pairs headers = meta;
      headers.emplace_back("x-ms-blob-type", "BlockBlob");
      if (!options.content_type.empty()) headers.emplace_back("Content-Type", options.content_type);
      Call call{"Put Blob", "PUT", key, {}, headers, data, 0, data->size()};
      auto r = co_await send_write(std::move(call));
      etag = r.header("etag").value_or("");
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

  Task<std::string> get(std::string key) override {
    check_key(key);
    Call call{"Get Blob", "GET", key, {}, {}, nullptr};
    auto r = co_await send(std::move(call));
    co_return std::move(r.body);
  }

  Task<ObjectInfo> head(std::string key) override {
    check_key(key);
    Call call{"Get Blob Properties", "HEAD", key, {}, {}, nullptr};
    auto r = co_await send(std::move(call));
    ObjectInfo info;
    info.key = key;
    if (auto v = r.header("content-length")) info.size = std::strtoull(v->c_str(), nullptr, 10);
    info.content_type = r.header("content-type").value_or("");
    info.etag = r.header("etag").value_or("");
    if (auto v = r.header("last-modified"))
      info.last_modified = parse_http_date(*v).value_or(std::chrono::system_clock::time_point{});
    for (const auto& [name, value] : r.headers) {
      auto n = lower(name);
      if (n.rfind("x-ms-meta-", 0) == 0) info.metadata[n.substr(10)] = decode_meta_value(value);
    }
    co_return info;
  }

  Task<ListPage> list(std::string prefix, std::string token, int max_keys) override {
    Pairs query{{"restype", "container"},
                {"comp", "list"},
                {"maxresults", std::to_string(std::clamp(max_keys, 1, 5000))}};
    if (!prefix.empty()) query.emplace_back("prefix", prefix);
    if (!token.empty()) query.emplace_back("marker", token);
    Call call{"List Blobs", "GET", "", std::move(query), {}, nullptr};
    auto r = co_await send(std::move(call));
    co_return parse_list(r.body);
  }

  // Unlike S3, Azure reports a missing blob (404 BlobNotFound): passed on as not_found.
  Task<void> remove(std::string key) override {
    check_key(key);
    Call call{"Delete Blob", "DELETE", key, {}, {}, nullptr};
    co_await send(std::move(call));
  }

  Task<std::string> presign(std::string key, std::chrono::seconds expires) override {
    check_key(key);
    co_return sas_url(key, expires);
  }

  std::string public_url(const std::string& key) const override {
    if (public_base_.empty()) return {};
    return public_base_ + (public_base_.back() == '/' ? "" : "/") + url_encode(key, true);
  }

  json location() const override {
    return {{"storage", "azure-blob"},
            {"account", account_.name},
            {"container", container_},
            {"endpoint", endpoint_.origin() + base_path_}};
  }

 private:
  std::string sas_url(const std::string& key, std::chrono::seconds expires) const {
    if (expires.count() < 1 || expires > kMaxSas)
      throw Error(ErrorClass::invalid_input,
                  "azure-blob: a SAS URL must expire within 1 to 604800 seconds (7 days); " +
                      std::to_string(expires.count()) + " s was asked");
    SasInput in;
    in.account = account_.name;
    in.container = container_;
    in.blob = key;
    in.expiry = iso8601(host_.clock->now() + expires);
    in.protocol = endpoint_.is_https() ? "https" : "https,http";
    return url_for(key, {}) + "?" + sas_query(in, account_.key);
  }

  std::string path_for(const std::string& blob) const {
    return base_path_ + "/" + container_ + (blob.empty() ? "" : "/" + url_encode(blob, true));
  }

  std::string url_for(const std::string& blob, const Pairs& query) const {
    std::string url = endpoint_.scheme + "://" + endpoint_.host_header() + path_for(blob);
    for (std::size_t i = 0; i < query.size(); ++i)
      url += (i ? "&" : "?") + url_encode(query[i].first, false) + "=" +
             url_encode(query[i].second, false);
    return url;
  }

  static void check_key(const std::string& key) {
    if (key.empty())
      throw Error(ErrorClass::invalid_input, "azure-blob: a blob name cannot be empty");
    if (key.size() > 1024)
      throw Error(ErrorClass::invalid_input, "azure-blob: blob names are at most 1024 characters");
  }

  // Azure metadata names are C# identifiers.
  static void check_meta_name(const std::string& name) {
    const bool ok = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                    std::all_of(name.begin(), name.end(),
                                [](unsigned char c) { return std::isalnum(c) || c == '_'; });
    if (!ok)
      throw Error(ErrorClass::invalid_input,
                  "azure-blob: metadata name '" + name +
                      "' must be letters, digits and '_' (a C# identifier)");
  }

  // Put Block for each slice, then Put Block List. Blocks left uncommitted after a failure
  // are discarded by Azure after 7 days; there is no call to drop them sooner.
  Task<std::string> put_blocks(std::string key, std::shared_ptr<const std::string> data,
                               std::string content_type, Pairs meta) {
    std::vector<std::string> ids;
    const auto size = static_cast<std::size_t>(block_size_);
    for (std::size_t offset = 0, n = 0; offset < data->size(); offset += size, ++n) {
      char name[32];
      std::snprintf(name, sizeof name, "block-%06zu", n);  // one length for every id of a blob
      ids.push_back(base64_encode(name));
      Call block{"Put Block", "PUT", key,    {{"comp", "block"}, {"blockid", ids.back()}},
                 {},          data,  offset, std::min(size, data->size() - offset)};
      if (n == 0)
        co_await send_write(std::move(block));
      else
        co_await send(std::move(block));
    }
    Pairs headers = std::move(meta);
    if (!content_type.empty()) headers.emplace_back("x-ms-blob-content-type", content_type);
    headers.emplace_back("Content-Type", "application/xml");
    auto body = std::make_shared<const std::string>(block_list_body(ids));
    Call commit{"Put Block List", "PUT", key, {{"comp", "blocklist"}},
                headers,          body,  0,   body->size()};
    auto r = co_await send(std::move(commit));
    co_return r.header("etag").value_or("");
  }

  // The first write of an upload, which may find the container missing: with
  // create_container it creates the container (once for all the uploads that find it
  // missing together) and goes once more. Put Blob and Put Block answer not_found for
  // nothing else. Created here rather than at construction so that a container that exists
  // costs no request, and a SAS or key without the right to create containers still works.
  Task<HttpResponse> send_write(Call call) {
    try {
      Call copy = call;
      co_return co_await send(std::move(copy));
    } catch (const Error& e) {
      if (!create_container_ || e.cls() != ErrorClass::not_found) throw;
    }
    co_await container_once_.run([this]() { return create_container(); });
    co_return co_await send(std::move(call));
  }

  // Create Container, private (no public access). ContainerAlreadyExists is success:
  // another process, or another of our uploads, got there first.
  Task<void> create_container() {
    Call call{"Create Container", "PUT", "", {{"restype", "container"}}, {}, nullptr, 0, 0,
              {"ContainerAlreadyExists"}};
    auto r = co_await send(std::move(call));
    if (host_.log)
      host_.log->info("azure-blob: container '{}' {}", container_,
                      r.status < 300 ? "created" : "already exists");
  }

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
        host_.log->info("azure-blob: {} (attempt {}), retrying in {} ms", failure->what(), attempt,
                        backoff.count());
      co_await host_.clock->sleep_for(backoff);
    }
  }

  Task<HttpResponse> send_once(Call call) {
    SharedKeyInput in;
    in.method = call.method;
    in.account = account_.name;
    in.path = path_for(call.blob);
    in.query = call.query;
    in.headers = call.headers;
    in.headers.emplace_back("x-ms-date", rfc1123(host_.clock->now()));
    in.headers.emplace_back("x-ms-version", kApiVersion);
    HttpRequest req;
    req.method = call.method;
    req.url = url_for(call.blob, call.query);
    if (call.body) req.body.assign(*call.body, call.offset, call.length);
    // The client sends Content-Length for PUT whatever the size; it is part of the MAC.
    if (call.method == "PUT")
      in.headers.emplace_back("Content-Length", std::to_string(req.body.size()));
    const auto auth = authorization(in, account_.key);
    for (auto& h : in.headers)
      if (h.first != "Content-Length") req.headers.push_back(std::move(h));
    req.headers.emplace_back("Authorization", auth);
    req.timeout = timeout_;
    req.max_redirects = 0;
    auto response = co_await host_.http->send(std::move(req));
    if (response.status >= 300 && !call.accepted_codes.empty() &&
        std::ranges::count(call.accepted_codes, error_code(response)) > 0)
      co_return response;
    if (response.status >= 300) throw to_error(response, call.operation, container_, call.blob);
    co_return response;
  }

  const Host& host_;
  Account account_;
  Url endpoint_;
  std::string base_path_;
  std::string container_;
  std::string public_base_;
  std::int64_t block_threshold_;
  std::int64_t block_size_;
  int max_attempts_;
  std::chrono::milliseconds timeout_;
  bool create_container_;
  AsyncOnce container_once_;
};

}  // namespace
}  // namespace imagepipe::azure

IMAGEPIPE_PLUGIN_SELF() {
  using namespace imagepipe;
  using namespace imagepipe::azure;
  PluginDescriptor d;
  d.version = "1.0.0";
  d.summary = "Azure Blob Storage (block blobs), or Azurite.";
  d.description =
      "Blobs in one container, authorised with Shared Key (x-ms-version 2021-08-06). Blobs larger "
      "than "
      "`block_threshold` go up as blocks and a block list. Presigned URLs are service SAS URLs "
      "(read-only, one blob). Credentials: `connection_string`, or `account_name` + `account_key`, "
      "else "
      "AZURE_STORAGE_CONNECTION_STRING, else AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY. "
      "ServerBusy, 5xx "
      "and connection failures are retried with backoff. With `create_container`, an upload that "
      "finds the container missing creates it first.";
  // Secrets are writeOnly: the core redacts them from logs, errors and descriptions.
  auto secret = [](const char* description) {
    return json{{"type", "string"}, {"writeOnly", true}, {"description", description}};
  };
  d.options_schema = {
      {"type", "object"},
      {"additionalProperties", false},
      {"required", {kContainer}},
      {"properties",
       {{kContainer,
         {{"type", "string"},
          {"pattern", "^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$"},
          {"description", "Container name (3-63 lowercase letters, digits, single hyphens)."},
          {"examples", {"images"}}}},
        {kConnectionString, secret("AccountName=...;AccountKey=...;[BlobEndpoint=...] or "
                                   "UseDevelopmentStorage=true (Azurite).")},
        {kAccountName,
         {{"type", "string"}, {"description", "Storage account name (with account_key)."}}},
        {kAccountKey, secret("Storage account key (base64).")},
        {kEndpoint,
         {{"type", "string"},
          {"description",
           "Blob service URL; default https://{account}.blob.core.windows.net. Azurite: "
           "http://127.0.0.1:10000/devstoreaccount1."},
          {"examples", {"http://127.0.0.1:10000/devstoreaccount1"}}}},
        {kPublicBaseUrl,
         {{"type", "string"},
          {"description", "Base URL of a CDN or public container, for `url: public`."}}},
        {kBlockThreshold,
         {{"type", "integer"},
          {"minimum", 1},
          {"maximum", 256 * kMiB},
          {"default", 16 * kMiB},
          {"description", "Blobs larger than this many bytes are uploaded as blocks."}}},
        {kBlockSize,
         {{"type", "integer"},
          {"minimum", 64 * 1024},
          {"maximum", 100 * kMiB},
          {"default", 8 * kMiB},
          {"description", "Bytes per block."}}},
        {kMaxAttempts,
         {{"type", "integer"},
          {"minimum", 1},
          {"maximum", 10},
          {"default", 3},
          {"description", "Attempts per request when Azure is busy or unreachable."}}},
        {kTimeout,
         {{"type", "integer"},
          {"minimum", 1},
          {"default", 300},
          {"description", "Deadline of one request, in seconds."}}},
        {kCreateContainer,
         {{"type", "boolean"},
          {"default", false},
          {"description",
           "Create the container (private) when an upload finds it missing, once however many "
           "uploads find it missing together; a container that already exists counts as "
           "created. Without it a missing container is a `not_found` error naming the "
           "container. Reads never create it."}}}}}};
  d.examples = {
      {{kContainer, "images"}, {kConnectionString, "${AZURE_STORAGE_CONNECTION_STRING}"}},
      {{kContainer, "images"}, {kConnectionString, "UseDevelopmentStorage=true"}},
      {{kContainer, "images"}, {kAccountName, "myaccount"}, {kAccountKey, "${AZURE_STORAGE_KEY}"}},
      {{kContainer, "generated-images"},
       {kConnectionString, "${AZURE_STORAGE_CONNECTION_STRING}"},
       {kCreateContainer, true}}};
  d.factory = StorageFactory{
      [](const PluginArgs& args) { return std::make_unique<AzureBlobStorage>(args); }};
  return d;
}
