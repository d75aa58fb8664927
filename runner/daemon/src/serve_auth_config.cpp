#include "serve_auth_config.hpp"
#include "serve_yaml.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>

#include <openssl/crypto.h>

#include "imagepipe/url.hpp"
#include "imagepipe/ascii.hpp"

namespace imagepipe::serve {

namespace {

using Node = const YAML::Node&;
using Handlers = std::map<std::string, std::function<void(Node)>>;

// Strings of both sections, with ${VAR} / ${VAR:-default} expanded, and errors at the mark.
class SectionReader {
 public:
  SectionReader(const std::filesystem::path& file, const EnvLookup& env) : file_(file), env_(env) {}

  [[noreturn]] void fail(Node node, const std::string& message) const {
    fail_at(file_, node, message);
  }

  void mapping(Node node, const std::string& where, const Handlers& handlers) const {
    read_mapping(file_, node, where, handlers);
  }

  std::string text(Node node, const std::string& key) const {
    if (!node.IsScalar()) fail(node, key + " must be a string");
    return expand(node, node.Scalar(), key);
  }

  bool boolean(Node node, const std::string& key) const {
    const auto value = ascii_lower(trimmed(text(node, key)));
    if (value == "true" || value == "yes" || value == "on" || value == "1") return true;
    if (value == "false" || value == "no" || value == "off" || value == "0") return false;
    fail(node, key + " must be true or false, got '" + value + "'");
  }

  long number(Node node, const std::string& key, long min, long max) const {
    const auto value = trimmed(text(node, key));
    char* end = nullptr;
    const long n = std::strtol(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0') fail(node, key + " must be a number, got '" + value + "'");
    if (n < min || n > max)
      fail(node, key + " must be between " + std::to_string(min) + " and " + std::to_string(max));
    return n;
  }

  // A list, or one string; in both, a value from a variable may hold several,
  // comma-separated ("${OIDC_AUDIENCE}" = "api://a,b"). Empty entries are dropped.
  std::vector<std::string> texts(Node node, const std::string& key) const {
    std::vector<std::string> out;
    auto add = [&](Node item) {
      const auto value = text(item, key);
      std::size_t start = 0;
      while (start <= value.size()) {
        const auto comma = value.find(',', start);
        const auto part = trimmed(value.substr(start, comma - start));
        if (!part.empty()) out.push_back(part);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    };
    if (node.IsScalar()) {
      add(node);
    } else if (node.IsSequence()) {
      for (const auto& item : node) add(item);
    } else if (!node.IsNull()) {
      fail(node, key + " must be a list of strings");
    }
    return out;
  }

  const EnvLookup& env() const { return env_; }

 private:
  std::string expand(Node node, const std::string& value, const std::string& key) const {
    std::string out;
    std::size_t i = 0;
    while (i < value.size()) {
      const auto open = value.find("${", i);
      if (open == std::string::npos) break;
      const auto close = value.find('}', open);
      if (close == std::string::npos) fail(node, key + ": '${' without a closing '}'");
      out += value.substr(i, open - i);
      const auto inside = value.substr(open + 2, close - open - 2);
      const auto dash = inside.find(":-");
      const auto name = inside.substr(0, dash);
      if (name.empty() ||
          name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                 "0123456789_") != std::string::npos)
        fail(node, key + ": '${" + inside + "}' does not name a variable");
      if (auto found = env_(name); found && !found->empty())
        out += *found;
      else if (dash != std::string::npos)
        out += inside.substr(dash + 2);
      else
        fail(node, key + ": the variable " + name + " is not set (write ${" + name +
                       ":-} to allow that)");
      i = close + 1;
    }
    return out + value.substr(std::min(i, value.size()));
  }

  const std::filesystem::path& file_;
  const EnvLookup& env_;
};

// The value under `key` (for its mark), or the mapping itself when it is absent.
YAML::Node child(Node node, const std::string& key) {
  for (const auto& entry : node)
    if (entry.first.as<std::string>() == key) return entry.second;
  return node;
}

// A plain-http issuer lets anyone on the path swap the keys; loopback is for tests.
void require_https(const SectionReader& r, Node node, const std::string& key,
                   const std::string& url) {
  Url parsed;
  try {
    parsed = parse_url(url);
  } catch (const std::exception& e) {
    r.fail(node, key + " is not a URL: " + e.what());
  }
  const bool loopback =
      parsed.host == "127.0.0.1" || parsed.host == "::1" || parsed.host == "localhost";
  if (!parsed.is_https() && !loopback)
    r.fail(node, key + " must be an https:// URL (plain http only on loopback), got '" + url + "'");
}

ApiKeySpec read_key(const SectionReader& r, Node node, const std::string& where) {
  ApiKeySpec spec;
  r.mapping(node, where,
            {{"name", [&](Node v) { spec.name = r.text(v, where + ".name"); }},
             {"key", [&](Node v) { spec.key = r.text(v, where + ".key"); }},
             {"sha256",
              [&](Node v) {
                spec.sha256 = ascii_lower(trimmed(r.text(v, where + ".sha256")));
                if (spec.sha256.size() != 64 ||
                    spec.sha256.find_first_not_of("0123456789abcdef") != std::string::npos)
                  r.fail(v, where + ".sha256 must be 64 hex digits (printf %s KEY | sha256sum)");
              }},
             {"roles", [&](Node v) { spec.roles = r.texts(v, where + ".roles"); }},
             {"scopes", [&](Node v) { spec.scopes = r.texts(v, where + ".scopes"); }}});
  if (spec.name.empty()) r.fail(node, where + " needs a name (it goes to logs and metrics)");
  if (spec.key.empty() == spec.sha256.empty())
    r.fail(node, where + " needs exactly one of 'key' and 'sha256'");
  return spec;
}

void read_oidc(const SectionReader& r, Node node, OidcSpec& o) {
  const std::string w = "auth.oidc";
  r.mapping(
      node, w,
      {{"issuer", [&](Node v) { o.issuer = trimmed(r.text(v, w + ".issuer")); }},
       {"jwks_uri", [&](Node v) { o.jwks_uri = trimmed(r.text(v, w + ".jwks_uri")); }},
       {"audience", [&](Node v) { o.audiences = r.texts(v, w + ".audience"); }},
       {"algorithms",
        [&](Node v) {
          o.algorithms = r.texts(v, w + ".algorithms");
          for (const auto& a : o.algorithms)
            if (a != "RS256" && a != "ES256")
              r.fail(v, w + ".algorithms: '" + a + "' is not supported (supported: RS256, ES256)");
          if (o.algorithms.empty()) r.fail(v, w + ".algorithms must name at least one");
        }},
       {"clock_skew_seconds",
        [&](Node v) {
          o.clock_skew = std::chrono::seconds(r.number(v, w + ".clock_skew_seconds", 0, 3600));
        }},
       {"roles_claim", [&](Node v) { o.roles_claim = r.text(v, w + ".roles_claim"); }},
       {"scopes_claim", [&](Node v) { o.scopes_claims = r.texts(v, w + ".scopes_claim"); }},
       {"fetch_timeout_ms",
        [&](Node v) {
          o.fetch_timeout =
              std::chrono::milliseconds(r.number(v, w + ".fetch_timeout_ms", 100, 60'000));
        }},
       {"refresh_interval_seconds",
        [&](Node v) {
          o.refresh_interval =
              std::chrono::seconds(r.number(v, w + ".refresh_interval_seconds", 60, 7 * 86400));
        }},
       {"unknown_kid_interval_seconds",
        [&](Node v) {
          o.unknown_kid_interval =
              std::chrono::seconds(r.number(v, w + ".unknown_kid_interval_seconds", 0, 86400));
        }},
       {"ca_file", [&](Node v) { o.ca_file = r.text(v, w + ".ca_file"); }}});
  if (!o.issuer.empty()) require_https(r, child(node, "issuer"), w + ".issuer", o.issuer);
  if (!o.jwks_uri.empty()) require_https(r, child(node, "jwks_uri"), w + ".jwks_uri", o.jwks_uri);
  if (o.configured() && o.audiences.empty())
    r.fail(node, w + " needs an audience: a token for another service must not pass");
}

void read_auth(const SectionReader& r, Node node, AuthConfig& auth) {
  auth.enabled = true;  // writing the section means wanting it, unless it says otherwise
  std::string keys_env;
  r.mapping(
      node, "auth",
      {{"enabled", [&](Node v) { auth.enabled = r.boolean(v, "auth.enabled"); }},
       {"api_key_header",
        [&](Node v) {
          auth.api_key_header = trimmed(r.text(v, "auth.api_key_header"));
          if (auth.api_key_header.empty()) r.fail(v, "auth.api_key_header must name a header");
        }},
       {"api_keys",
        [&](Node v) {
          if (!v.IsSequence()) r.fail(v, "auth.api_keys must be a list of {name, key | sha256}");
          for (std::size_t i = 0; i < v.size(); ++i)
            auth.api_keys.push_back(read_key(r, v[i], "auth.api_keys[" + std::to_string(i) + "]"));
        }},
       {"api_keys_env", [&](Node v) { keys_env = trimmed(r.text(v, "auth.api_keys_env")); }},
       {"oidc", [&](Node v) { read_oidc(r, v, auth.oidc); }},
       {"exempt", [&](Node v) { auth.exempt = r.texts(v, "auth.exempt"); }},
       {"max_credential_bytes",
        [&](Node v) {
          auth.max_credential_bytes =
              static_cast<std::size_t>(r.number(v, "auth.max_credential_bytes", 256, 65536));
        }},
       {"realm", [&](Node v) { auth.realm = r.text(v, "auth.realm"); }}});
  for (const auto& path : auth.exempt)
    if (path.empty() || path.front() != '/')
      r.fail(child(node, "exempt"), "auth.exempt: '" + path + "' must start with '/'");
  if (!keys_env.empty()) {
    // The variable holds the keys themselves: "k1,k2". Its name, never a key, names them.
    const auto value = r.env()(keys_env).value_or("");
    int n = 0;
    std::size_t start = 0;
    while (start <= value.size()) {
      const auto comma = value.find(',', start);
      const auto key = trimmed(value.substr(start, comma - start));
      if (!key.empty())
        auth.api_keys.push_back({keys_env + "#" + std::to_string(++n), key, {}, {}, {}});
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  std::map<std::string, int> names;
  for (const auto& key : auth.api_keys)
    if (++names[key.name] == 2)
      r.fail(node, "auth.api_keys: the name '" + key.name + "' is used twice");
  if (auth.enabled && auth.api_keys.empty() && !auth.oidc.configured())
    r.fail(node,
           "auth is enabled but has no API keys and no OIDC issuer, so every request would be "
           "refused" +
               (keys_env.empty() ? std::string() : " (" + keys_env + " is empty)"));
}

void read_cors(const SectionReader& r, Node node, CorsConfig& cors) {
  r.mapping(
      node, "cors",
      {{"allow_origins", [&](Node v) { cors.allow_origins = r.texts(v, "cors.allow_origins"); }},
       {"allow_methods", [&](Node v) { cors.allow_methods = r.texts(v, "cors.allow_methods"); }},
       {"allow_headers", [&](Node v) { cors.allow_headers = r.texts(v, "cors.allow_headers"); }},
       {"expose_headers", [&](Node v) { cors.expose_headers = r.texts(v, "cors.expose_headers"); }},
       {"allow_credentials",
        [&](Node v) { cors.allow_credentials = r.boolean(v, "cors.allow_credentials"); }},
       {"max_age_seconds", [&](Node v) {
          cors.max_age = std::chrono::seconds(r.number(v, "cors.max_age_seconds", 0, 86400));
        }}});
  for (auto& origin : cors.allow_origins) {
    while (!origin.empty() && origin.back() == '/') origin.pop_back();
    if (origin == "*") {
      // Browsers refuse `*` with credentials; echoing any origin instead would hand every
      // site the user's cookies.
      if (cors.allow_credentials)
        r.fail(child(node, "allow_origins"),
               "cors.allow_origins: '*' cannot be combined with allow_credentials: list the "
               "origins");
    } else if (origin.rfind("http://", 0) != 0 && origin.rfind("https://", 0) != 0) {
      r.fail(child(node, "allow_origins"),
             "cors.allow_origins: '" + origin + "' must be '*' or scheme://host[:port]");
    }
  }
  for (auto& m : cors.allow_methods)
    std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return std::toupper(c); });
}

}  // namespace

EnvLookup env_lookup(const std::map<std::string, std::string>& env_file) {
  return [env_file](const std::string& name) -> std::optional<std::string> {
    if (auto it = env_file.find(name); it != env_file.end()) return it->second;
    if (const char* value = std::getenv(name.c_str())) return std::string(value);
    return std::nullopt;
  };
}

void forget_api_keys(AuthConfig& auth) {
  for (auto& key : auth.api_keys) {
    OPENSSL_cleanse(key.key.data(), key.key.size());
    key.key.clear();
  }
}

AccessConfig read_access_config(const AccessSection& section, const EnvLookup& env) {
  AccessConfig config;
  const SectionReader reader(section.file, env);
  if (section.auth && !section.auth.IsNull()) read_auth(reader, section.auth, config.auth);
  if (section.cors && !section.cors.IsNull()) read_cors(reader, section.cors, config.cors);
  return config;
}

}  // namespace imagepipe::serve
