#include "shared_key.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

#include "imagepipe/ascii.hpp"
#include "imagepipe/http.hpp"

namespace imagepipe::azure {

namespace {
std::string format_time(std::chrono::system_clock::time_point t, const char* format) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

std::string squeeze(const std::string& value) {
  std::string v;
  bool space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !v.empty();
      continue;
    }
    if (space) v += ' ';
    space = false;
    v += c;
  }
  return v;
}
}  // namespace

std::string rfc1123(std::chrono::system_clock::time_point t) {
  // strftime's %a/%b follow the C locale, which is what HTTP wants.
  return format_time(t, "%a, %d %b %Y %H:%M:%S GMT");
}

std::string iso8601(std::chrono::system_clock::time_point t) {
  return format_time(t, "%Y-%m-%dT%H:%M:%SZ");
}

std::string string_to_sign(const SharedKeyInput& in) {
  std::map<std::string, std::string> standard;
  std::map<std::string, std::string> ms;  // byte order: right for standard and C#-identifier names
  for (const auto& [name, value] : in.headers) {
    auto n = ascii_lower(name);
    if (n.rfind("x-ms-", 0) == 0)
      ms[n] = squeeze(value);
    else
      standard[n] = value;
  }
  auto field = [&](const char* name) {
    auto it = standard.find(name);
    return it == standard.end() ? std::string() : it->second;
  };
  std::string length = field("content-length");
  if (length == "0") length.clear();  // versions >= 2015-02-21 sign a zero length as empty
  std::string s = in.method + "\n" + field("content-encoding") + "\n" + field("content-language") +
                  "\n" + length + "\n" + field("content-md5") + "\n" + field("content-type") +
                  "\n" + (ms.count("x-ms-date") ? "" : field("date")) + "\n" +
                  field("if-modified-since") + "\n" + field("if-match") + "\n" +
                  field("if-none-match") + "\n" + field("if-unmodified-since") + "\n" +
                  field("range") + "\n";
  for (const auto& [n, v] : ms) s += n + ":" + v + "\n";
  s += "/" + in.account + in.path;
  std::map<std::string, std::vector<std::string>> query;
  for (const auto& [name, value] : in.query) query[ascii_lower(name)].push_back(value);
  for (auto& [name, values] : query) {
    std::sort(values.begin(), values.end());
    s += "\n" + name + ":";
    for (std::size_t i = 0; i < values.size(); ++i) s += (i ? "," : "") + values[i];
  }
  return s;
}

std::string signature(std::string_view base64_key, std::string_view text) {
  const auto key = base64_decode(base64_key);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), out, &len);
  return base64_encode({reinterpret_cast<const char*>(out), len});
}

std::string authorization(const SharedKeyInput& in, std::string_view base64_key) {
  return "SharedKey " + in.account + ":" + signature(base64_key, string_to_sign(in));
}

std::string sas_string_to_sign(const SasInput& in) {
  // sp, st, se, resource, si, sip, spr, sv, sr, snapshot time, ses, rscc, rscd, rsce, rscl, rsct
  return in.permissions + "\n\n" + in.expiry + "\n/blob/" + in.account + "/" + in.container + "/" +
         in.blob + "\n\n\n" + in.protocol + "\n" + kApiVersion + "\nb\n\n\n\n\n\n\n";
}

std::string sas_query(const SasInput& in, std::string_view base64_key) {
  return "sv=" + std::string(kApiVersion) + "&spr=" + url_encode(in.protocol, false) +
         "&se=" + url_encode(in.expiry, false) + "&sr=b&sp=" + in.permissions +
         "&sig=" + url_encode(signature(base64_key, sas_string_to_sign(in)), false);
}

}  // namespace imagepipe::azure
