#include "connection_string.hpp"

#include <algorithm>
#include <map>

#include "imagepipe/error.hpp"

namespace imagepipe::azure {

std::string default_endpoint(const std::string& account) {
  return "https://" + account + ".blob.core.windows.net";
}

Account parse_connection_string(const std::string& text) {
  std::map<std::string, std::string> fields;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find(';', start);
    if (end == std::string::npos) end = text.size();
    auto part = text.substr(start, end - start);
    start = end + 1;
    if (part.find_first_not_of(" \t") == std::string::npos) continue;
    auto eq = part.find('=');  // values (keys, SAS) may contain '=': split on the first
    if (eq == std::string::npos)
      throw Error(ErrorClass::invalid_input,
                  "azure-blob: connection string part without '=': '" +
                      part.substr(0, std::min<std::size_t>(part.size(), 20)) + "'");
    auto name = part.substr(0, eq);
    name.erase(0, name.find_first_not_of(" \t"));
    name.erase(name.find_last_not_of(" \t") + 1);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    fields[name] = part.substr(eq + 1);
  }
  auto get = [&](const char* name) {
    auto it = fields.find(name);
    return it == fields.end() ? std::string() : it->second;
  };
  Account a;
  if (get("usedevelopmentstorage") == "true") {
    a.name = kDevAccount;
    a.key = kDevKey;
    auto proxy = get("developmentstorageproxyuri");
    a.endpoint =
        (proxy.empty() ? std::string("http://127.0.0.1") : proxy) + ":10000/" + kDevAccount;
    return a;
  }
  if (!get("sharedaccesssignature").empty())
    throw Error(
        ErrorClass::invalid_input,
        "azure-blob: connection strings with a SharedAccessSignature are not supported; give "
        "AccountName and AccountKey");
  a.name = get("accountname");
  a.key = get("accountkey");
  if (a.name.empty())
    throw Error(ErrorClass::invalid_input, "azure-blob: the connection string has no AccountName");
  if (a.key.empty())
    throw Error(ErrorClass::invalid_input, "azure-blob: the connection string has no AccountKey");
  a.endpoint = get("blobendpoint");
  if (a.endpoint.empty()) {
    auto protocol = get("defaultendpointsprotocol");
    auto suffix = get("endpointsuffix");
    a.endpoint = (protocol.empty() ? "https" : protocol) + "://" + a.name + ".blob." +
                 (suffix.empty() ? "core.windows.net" : suffix);
  }
  while (!a.endpoint.empty() && a.endpoint.back() == '/') a.endpoint.pop_back();
  return a;
}

}  // namespace imagepipe::azure
