// Bearer JWTs (RFC 7519) signed by an OIDC issuer: RS256 and ES256, keys from its JWKS.
// The JOSE work (base64url, the JWS header, JWK → key, signature checks, ES256's raw
// r||s) is cjose's, a maintained library; this file decides what a valid token is:
//   - the algorithm is one the daemon accepts (never `none`, never HS* with a public key),
//     and the key's type and curve fit it;
//   - the key is the issuer's, by `kid` (or the only one of its type when there is no kid);
//   - `exp` is required, `nbf` honoured, both with a clock skew;
//   - `iss` is the issuer exactly, and `aud` (a string or a list) names an accepted audience.
// Roles and scopes are read as Azure AD v2 writes them (`roles` a list, `scp` space-
// separated), and as others do (`scope`, nested claims by dotted path).
#pragma once

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace imagepipe::serve {

struct JwtPolicy {
  std::string issuer;  // empty: `iss` is not checked (keys given without discovery)
  std::vector<std::string> audiences;
  std::vector<std::string> algorithms{"RS256", "ES256"};
  std::chrono::seconds clock_skew{60};
  std::string roles_claim = "roles";
  std::vector<std::string> scopes_claims{"scp", "scope"};
};

// An issuer's signing keys, parsed once from its JWKS document and shared read-only.
class JwtKeySet {
 public:
  struct Key {
    std::string kid;
    std::string kty;            // RSA | EC
    std::string alg;            // as the JWK declares it; may be empty
    std::shared_ptr<void> jwk;  // cjose_jwk_t
  };

  // {"keys": [...]}. Keys for encryption (`use: enc`) and of other types or curves are
  // skipped. Throws std::runtime_error when the document is not a JWKS.
  static std::shared_ptr<const JwtKeySet> parse(std::string_view document);

  const Key* find(std::string_view kid) const;
  const std::vector<Key>& keys() const { return keys_; }

 private:
  std::vector<Key> keys_;
};

enum class JwtProblem {
  none,
  malformed,    // not three base64url parts, or not JSON
  algorithm,    // `none`, or not among the accepted ones
  unknown_key,  // no key with that kid: the caller may fetch the keys again and retry
  signature,
  expired,
  not_yet_valid,
  issuer,
  audience,
  claims,  // `exp` missing or not a number
};

struct JwtIdentity {
  std::string subject;  // sub, else azp / appid / client_id
  std::set<std::string> roles;
  std::set<std::string> scopes;
};

struct JwtCheck {
  JwtProblem problem = JwtProblem::none;
  std::string message;  // for the 401 body: never the token
  std::string kid;      // from the header, when it had one
  JwtIdentity identity;
  bool ok() const { return problem == JwtProblem::none; }
};

// Whether the credential is shaped like a JWT (three dot-separated parts): an opaque
// bearer credential is an API key instead.
bool looks_like_jwt(std::string_view credential);

JwtCheck check_jwt(std::string_view token, const JwtKeySet& keys, const JwtPolicy& policy,
                   std::chrono::system_clock::time_point now);

}  // namespace imagepipe::serve
