// aliyun_signer.hpp - Alibaba Cloud RPC API request signing, signature
// version 1.0 with HMAC-SHA1 (the V2 signature method of the RPC APIs).
//
// Every parameter but Signature is percent-encoded (RFC 3986: unreserved
// characters kept, everything else %XX upper-case, so a space is %20 and "*"
// is %2A), sorted by encoded name, and joined as the canonical query. The
// string to sign is METHOD&%2F&percent_encode(canonical query); the signature
// is base64(HMAC-SHA1(AccessKeySecret + "&", string to sign)). The canonical
// query itself is sent, followed by &Signature=<encoded signature>, so the
// server rebuilds exactly what was signed. Pure functions; thread-safe.
#ifndef SIPHON_PLUGINS_ALIYUN_SIGNER_HPP
#define SIPHON_PLUGINS_ALIYUN_SIGNER_HPP

#include <siphon/sdk.hpp>
#include <string>
#include <string_view>

namespace siphon::aliyun {

std::string percent_encode(std::string_view text);

// Encoded name=value pairs sorted by encoded name (then value), joined by &.
std::string canonical_query(const Params& params);

// "GET&%2F&" + percent_encode(canonical_query).
std::string string_to_sign(std::string_view method, std::string_view canonical_query);

// base64(HMAC-SHA1(access_key_secret + "&", string_to_sign)).
std::string signature(std::string_view access_key_secret, std::string_view string_to_sign);

// The query string to send: the canonical query and its &Signature=.
std::string signed_query(std::string_view method, const Params& params,
                         std::string_view access_key_secret);

}  // namespace siphon::aliyun

#endif  // SIPHON_PLUGINS_ALIYUN_SIGNER_HPP
