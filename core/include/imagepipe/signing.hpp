// HMAC-SHA256 for the signatures imagepipe makes itself: callback bodies, and the read
// links of storage the daemon serves (`local`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace imagepipe {

// Lower-case hex of HMAC-SHA256(key, message).
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

// A read link is GET <url_base>/<key, percent-encoded>?expires=<unix seconds>&signature=<hex>
// where the signature is the HMAC of "<key>\n<expires>" under the storage's secret.
std::string storage_link_signature(std::string_view secret, std::string_view key,
                                   std::int64_t expires);

// Compared in constant time: a wrong guess tells nothing about the right signature.
bool storage_link_signature_matches(std::string_view secret, std::string_view key,
                                    std::int64_t expires, std::string_view signature);

}  // namespace imagepipe
