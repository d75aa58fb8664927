#include "serve_jwt.hpp"

#include <cjose/cjose.h>

#include <algorithm>
#include <ctime>
#include <stdexcept>

#include "imagepipe/http.hpp"
#include "imagepipe/ascii.hpp"

namespace imagepipe::serve {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxShown = 64;  // of a kid, an issuer or an audience, in a message

std::string shown(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, kMaxShown))
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return text.size() > kMaxShown ? out + "..." : out;
}

std::string utc(double seconds) {
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

bool base64url_text(std::string_view part) {
  return std::all_of(part.begin(), part.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

// A part decoded as a JSON object, or null.
json decode_object(std::string_view part) {
  try {
    auto value = json::parse(base64_decode(part));
    if (value.is_object()) return value;
  } catch (const std::exception&) {
  }
  return nullptr;
}

JwtCheck fail(JwtProblem problem, std::string message, std::string kid = {}) {
  JwtCheck check;
  check.problem = problem;
  check.message = std::move(message);
  check.kid = std::move(kid);
  return check;
}

const json* claim_at(const json& payload, const std::string& dotted) {
  const json* at = &payload;
  std::size_t start = 0;
  while (true) {
    const auto dot = dotted.find('.', start);
    const auto name = dotted.substr(start, dot - start);
    if (!at->is_object()) return nullptr;
    auto it = at->find(name);
    if (it == at->end()) return nullptr;
    at = &*it;
    if (dot == std::string::npos) return at;
    start = dot + 1;
  }
}

// A list of strings, or one string of space-separated values (OAuth scopes).
void collect(const json* claim, std::set<std::string>& into) {
  if (!claim) return;
  auto add_words = [&](const std::string& text) {
    std::size_t start = 0;
    while (start < text.size()) {
      const auto space = text.find(' ', start);
      if (space != start) into.insert(text.substr(start, space - start));
      if (space == std::string::npos) break;
      start = space + 1;
    }
  };
  if (claim->is_string()) add_words(claim->get<std::string>());
  if (claim->is_array())
    for (const auto& item : *claim)
      if (item.is_string()) into.insert(item.get<std::string>());
}

bool verify_with(const std::string& token, const JwtKeySet::Key& key) {
  cjose_err err{};
  std::unique_ptr<cjose_jws_t, void (*)(cjose_jws_t*)> jws(
      cjose_jws_import(token.c_str(), token.size(), &err), cjose_jws_release);
  return jws && cjose_jws_verify(jws.get(), static_cast<const cjose_jwk_t*>(key.jwk.get()), &err);
}

std::string key_type_for(const std::string& alg) { return alg.rfind("ES", 0) == 0 ? "EC" : "RSA"; }

}  // namespace

std::shared_ptr<const JwtKeySet> JwtKeySet::parse(std::string_view document) {
  json root;
  try {
    root = json::parse(document);
  } catch (const json::exception&) {
    throw std::runtime_error("the key set is not JSON");
  }
  if (!root.is_object() || !root.contains("keys") || !root["keys"].is_array())
    throw std::runtime_error("the key set has no \"keys\" list");
  auto set = std::make_shared<JwtKeySet>();
  for (const auto& jwk : root["keys"]) {
    if (!jwk.is_object()) continue;
    const auto kty = jwk.value("kty", json("")).is_string() ? jwk.value("kty", "") : "";
    auto text = [&](const char* name) {
      auto it = jwk.find(name);
      return it != jwk.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (text("use") == "enc") continue;
    if (kty != "RSA" && !(kty == "EC" && text("crv") == "P-256")) continue;
    // Only the public members reach cjose; a JWKS that (wrongly) carries a private key
    // must not turn the daemon into a signer.
    json pub = {{"kty", kty}};
    for (const char* member : {"n", "e", "crv", "x", "y"})
      if (auto it = jwk.find(member); it != jwk.end()) pub[member] = *it;
    const auto serialized = pub.dump();
    cjose_err err{};
    cjose_jwk_t* key = cjose_jwk_import(serialized.c_str(), serialized.size(), &err);
    if (!key) continue;  // a malformed key: the others may still serve
    set->keys_.push_back({text("kid"), kty, text("alg"), std::shared_ptr<void>(key, [](void* k) {
                            cjose_jwk_release(static_cast<cjose_jwk_t*>(k));
                          })});
  }
  return set;
}

const JwtKeySet::Key* JwtKeySet::find(std::string_view kid) const {
  for (const auto& key : keys_)
    if (key.kid == kid) return &key;
  return nullptr;
}

bool looks_like_jwt(std::string_view credential) {
  return std::count(credential.begin(), credential.end(), '.') == 2;
}

JwtCheck check_jwt(std::string_view token_view, const JwtKeySet& keys, const JwtPolicy& policy,
                   std::chrono::system_clock::time_point now) {
  const std::string token(token_view);
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string::npos || token.find('.', dot2 + 1) != std::string::npos)
    return fail(JwtProblem::malformed,
                "the bearer token is not a JWT: it must be three "
                "base64url parts separated by '.'");
  const std::string_view parts[3] = {std::string_view(token).substr(0, dot1),
                                     std::string_view(token).substr(dot1 + 1, dot2 - dot1 - 1),
                                     std::string_view(token).substr(dot2 + 1)};
  for (const auto part : parts)
    if (!base64url_text(part))
      return fail(JwtProblem::malformed,
                  "the bearer token is not a JWT: a part holds characters outside base64url");

  const json header = decode_object(parts[0]);
  if (header.is_null())
    return fail(JwtProblem::malformed,
                "the bearer token is not a JWT: its header is not base64url-encoded JSON");
  const auto alg_it = header.find("alg");
  if (alg_it == header.end() || !alg_it->is_string())
    return fail(JwtProblem::malformed, "the bearer token is not a JWT: its header has no 'alg'");
  const auto alg = alg_it->get<std::string>();
  std::string kid;
  if (auto it = header.find("kid"); it != header.end() && it->is_string()) kid = *it;
  if (std::find(policy.algorithms.begin(), policy.algorithms.end(), alg) == policy.algorithms.end())
    return fail(JwtProblem::algorithm,
                "the token's algorithm '" + shown(alg) +
                    "' is not accepted (accepted: " + join_list(policy.algorithms) + ")",
                kid);
  const json payload = decode_object(parts[1]);
  if (payload.is_null())
    return fail(JwtProblem::malformed,
                "the bearer token is not a JWT: its payload is not base64url-encoded JSON", kid);
  // ES256 signs with P-256: r and s of 32 bytes each, 86 base64url characters.
  if (parts[2].empty() || (alg == "ES256" && parts[2].size() != 86))
    return fail(JwtProblem::signature, "the token's signature does not verify", kid);

  std::vector<const JwtKeySet::Key*> candidates;
  if (!kid.empty()) {
    const auto* key = keys.find(kid);
    if (!key)
      return fail(JwtProblem::unknown_key,
                  "the token's key id '" + shown(kid) + "' is not in the issuer's key set", kid);
    candidates.push_back(key);
  } else {
    for (const auto& key : keys.keys()) candidates.push_back(&key);
  }
  bool verified = false;
  for (const auto* key : candidates) {
    if (key->kty != key_type_for(alg) || (!key->alg.empty() && key->alg != alg)) {
      if (!kid.empty())
        return fail(JwtProblem::algorithm,
                    "the token's algorithm '" + alg + "' does not fit its key '" + shown(kid) +
                        "' (" + key->kty + (key->alg.empty() ? "" : ", " + key->alg) + ")",
                    kid);
      continue;
    }
    if (verify_with(token, *key)) {
      verified = true;
      break;
    }
  }
  if (!verified) return fail(JwtProblem::signature, "the token's signature does not verify", kid);

  const double at = std::chrono::duration<double>(now.time_since_epoch()).count();
  const double skew = static_cast<double>(policy.clock_skew.count());
  const auto exp = payload.find("exp");
  if (exp == payload.end() || !exp->is_number())
    return fail(JwtProblem::claims, "the token has no numeric 'exp' claim", kid);
  if (at > exp->get<double>() + skew)
    return fail(JwtProblem::expired, "the token expired at " + utc(exp->get<double>()), kid);
  if (auto nbf = payload.find("nbf"); nbf != payload.end()) {
    if (!nbf->is_number())
      return fail(JwtProblem::claims, "the token's 'nbf' claim is not a number", kid);
    if (at + skew < nbf->get<double>())
      return fail(JwtProblem::not_yet_valid,
                  "the token is not valid before " + utc(nbf->get<double>()), kid);
  }
  if (!policy.issuer.empty()) {
    const auto iss = payload.find("iss");
    const std::string issuer =
        iss != payload.end() && iss->is_string() ? iss->get<std::string>() : "";
    if (issuer != policy.issuer)
      return fail(JwtProblem::issuer,
                  issuer.empty() ? "the token has no 'iss' claim"
                                 : "the token's issuer '" + shown(issuer) +
                                       "' is not the accepted issuer '" + policy.issuer + "'",
                  kid);
  }
  std::vector<std::string> audiences;
  if (auto aud = payload.find("aud"); aud != payload.end()) {
    if (aud->is_string()) audiences.push_back(*aud);
    if (aud->is_array())
      for (const auto& a : *aud)
        if (a.is_string()) audiences.push_back(a);
  }
  const bool audience_ok = std::any_of(audiences.begin(), audiences.end(), [&](const auto& a) {
    return std::find(policy.audiences.begin(), policy.audiences.end(), a) != policy.audiences.end();
  });
  if (!audience_ok)
    return fail(JwtProblem::audience,
                audiences.empty() ? "the token has no 'aud' claim"
                                  : "the token's audience '" + shown(audiences.front()) +
                                        "' is not an accepted audience (accepted: " +
                                        join_list(policy.audiences) + ")",
                kid);

  JwtCheck check;
  check.kid = kid;
  for (const char* name : {"sub", "azp", "appid", "client_id"}) {
    if (auto it = payload.find(name); it != payload.end() && it->is_string()) {
      check.identity.subject = shown(it->get<std::string>());
      break;
    }
  }
  collect(claim_at(payload, policy.roles_claim), check.identity.roles);
  for (const auto& name : policy.scopes_claims)
    collect(claim_at(payload, name), check.identity.scopes);
  return check;
}

}  // namespace imagepipe::serve
