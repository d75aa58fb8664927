#include "sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <set>

namespace imagepipe::s3 {

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return hex({reinterpret_cast<const char*>(digest), sizeof digest});
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return {reinterpret_cast<const char*>(out), len};
}

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string canonical_query(const Params& params) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(params.size());
  for (const auto& [k, v] : params)
    encoded.emplace_back(url_encode(k, false), url_encode(v, false));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [k, v] : encoded) {
    if (!out.empty()) out += '&';
    out += k + '=' + v;
  }
  return out;
}

std::string amz_timestamp(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

namespace {

// Lowercase name; value trimmed with inner runs of spaces squeezed to one.
std::pair<std::string, std::string> canonical_header(const std::string& name,
                                                     const std::string& value) {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string v;
  bool space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      space = !v.empty();
      continue;
    }
    if (space) v += ' ';
    space = false;
    v += c;
  }
  return {n, v};
}

}  // namespace

std::string scope(const SignInput& in) {
  return in.timestamp.substr(0, 8) + "/" + in.region + "/" + in.service + "/aws4_request";
}

std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service) {
  const auto k_date = hmac_sha256("AWS4" + std::string(secret), date);
  const auto k_region = hmac_sha256(k_date, region);
  const auto k_service = hmac_sha256(k_region, service);
  return hmac_sha256(k_service, "aws4_request");
}

Signed sign(const SignInput& in, const Credentials& creds) {
  // std::map sorts by lowercase name; repeated headers join with ',' as AWS specifies.
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : in.headers) {
    auto [n, v] = canonical_header(name, value);
    auto [it, fresh] = headers.emplace(n, v);
    if (!fresh) it->second += "," + v;
  }
  Signed out;
  std::string canonical_headers;
  for (const auto& [n, v] : headers) {
    canonical_headers += n + ':' + v + '\n';
    if (!out.signed_headers.empty()) out.signed_headers += ';';
    out.signed_headers += n;
  }
  out.canonical_request = in.method + '\n' + (in.path.empty() ? "/" : in.path) + '\n' +
                          canonical_query(in.query) + '\n' + canonical_headers + '\n' +
                          out.signed_headers + '\n' + in.payload_hash;
  const auto sc = scope(in);
  out.string_to_sign =
      "AWS4-HMAC-SHA256\n" + in.timestamp + '\n' + sc + '\n' + sha256_hex(out.canonical_request);
  const auto key =
      signing_key(creds.secret_access_key, in.timestamp.substr(0, 8), in.region, in.service);
  out.signature = hex(hmac_sha256(key, out.string_to_sign));
  out.authorization = "AWS4-HMAC-SHA256 Credential=" + creds.access_key_id + "/" + sc +
                      ", SignedHeaders=" + out.signed_headers + ", Signature=" + out.signature;
  return out;
}

std::string presign_query(SignInput in, const Credentials& creds, std::chrono::seconds expires) {
  in.payload_hash = "UNSIGNED-PAYLOAD";
  Params& q = in.query;
  q.emplace_back("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
  q.emplace_back("X-Amz-Credential", creds.access_key_id + "/" + scope(in));
  q.emplace_back("X-Amz-Date", in.timestamp);
  q.emplace_back("X-Amz-Expires", std::to_string(expires.count()));
  if (!creds.session_token.empty()) q.emplace_back("X-Amz-Security-Token", creds.session_token);
  std::set<std::string> names;
  for (const auto& header : in.headers) names.insert(canonical_header(header.first, "").first);
  std::string signed_names;
  for (const auto& n : names) signed_names += (signed_names.empty() ? "" : ";") + n;
  q.emplace_back("X-Amz-SignedHeaders", signed_names);
  const auto s = sign(in, creds);
  return canonical_query(in.query) + "&X-Amz-Signature=" + s.signature;
}

}  // namespace imagepipe::s3
