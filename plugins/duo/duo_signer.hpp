// duo_signer.hpp - Duo Admin API request signing (v2 HMAC-SHA1, v5 HMAC-SHA512).
//
// Every Duo request carries a Date header and Authorization: Basic
// base64(ikey:hexsig), where the signature covers a canonical string of
// date, method, host, path and parameters. The
// parameters are encoded once, canonically, and the same text is sent as the
// query string, so the server rebuilds exactly what was signed.
// Pure functions; thread-safe.
#ifndef SIPHON_PLUGINS_DUO_SIGNER_HPP
#define SIPHON_PLUGINS_DUO_SIGNER_HPP

#include <siphon/sdk.hpp>
#include <string>
#include <string_view>

namespace siphon::duo {

// RFC 3986-encodes keys and values, sorts by key then value, joins k=v with &.
std::string canonical_params(const Params& params);

// The canonical string: date, METHOD, host, path and canonical params joined
// by '\n'. For v5 two lines follow: sha512 hex of the body and of the
// (here always empty) X-Duo-* headers.
std::string canonical_string(int signature_version, std::string_view date, std::string_view method,
                             std::string_view host, std::string_view path, std::string_view params,
                             std::string_view body = "");

// Lower-hex HMAC of the canonical string: SHA-1 for v2, SHA-512 for v5.
std::string signature(int signature_version, std::string_view skey, std::string_view canonical);

// "Basic " + base64(ikey:signature).
std::string authorization(std::string_view ikey, std::string_view signature);

// The host as the HTTP client sends it in the Host header: lower-cased, with
// ":port" when the port is not the scheme's default.
std::string signing_host(const std::string& url);

}  // namespace siphon::duo

#endif  // SIPHON_PLUGINS_DUO_SIGNER_HPP
