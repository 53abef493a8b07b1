// siphon/auth_helpers.hpp - signing and encoding helpers for vendor auth.
//
// What SaaS APIs ask of a client: HMAC signatures in hex or base64 (Duo,
// Aliyun), RS256-signed JWT assertions (Box, Google service accounts), base64
// and base64url. All functions are pure and thread-safe; errors (a key that
// does not parse, a wrong passphrase) throw siphon::Error with a reason that
// never quotes the key material.
#ifndef SIPHON_AUTH_HELPERS_HPP
#define SIPHON_AUTH_HELPERS_HPP

#include <string>
#include <string_view>

namespace siphon::auth {

// Standard base64 with padding (RFC 4648 section 4).
std::string base64_encode(std::string_view data);
// base64url without padding (RFC 4648 section 5, as JWT uses it).
std::string base64url_encode(std::string_view data);
// Decodes standard base64 (padding optional); throws siphon::Error if invalid.
std::string base64_decode(std::string_view text);

// Raw digests and HMACs (binary strings).
std::string sha256(std::string_view data);
std::string sha512(std::string_view data);
std::string hmac_sha1(std::string_view key, std::string_view message);
std::string hmac_sha256(std::string_view key, std::string_view message);
std::string hmac_sha512(std::string_view key, std::string_view message);

// Lower-case hex of binary data, and the hex forms of the above.
std::string hex(std::string_view data);
std::string sha512_hex(std::string_view data);
std::string hmac_sha1_hex(std::string_view key, std::string_view message);
std::string hmac_sha512_hex(std::string_view key, std::string_view message);

// A short key that tells records apart for deduplication, kept in cursors
// instead of whole ids or events: the first `hex_digits` lower-case hex
// digits of SHA-256 over `data` (16 digits = 64 bits).
std::string dedupe_hash(std::string_view data, size_t hex_digits = 16);

// A random string of `length` characters from [A-Za-z0-9] (JWT jti, nonces).
std::string random_token(size_t length);

// Signs a JWT with RS256. `header_json` and `claims_json` are the JSON texts
// of the header and claims ({"alg":"RS256","typ":"JWT",...}); the result is
// base64url(header).base64url(claims).base64url(signature).
// `private_key_pem` is a PKCS#1 or PKCS#8 PEM, encrypted when `passphrase`
// is not empty. Throws siphon::Error when the key cannot be used.
std::string rs256_jwt(std::string_view header_json, std::string_view claims_json,
                      const std::string& private_key_pem, const std::string& passphrase = "");

// Verifies an RS256 JWT against a PEM RSA public key ("PUBLIC KEY", "RSA
// PUBLIC KEY" or a "CERTIFICATE"). Returns true only when the token has three
// base64url parts, its header says "alg":"RS256" and the signature matches;
// claims (exp, aud ...) are not checked. Throws siphon::Error when the public
// key cannot be read. Used by vendor imitations in tests.
bool rs256_verify(std::string_view jwt, const std::string& public_key_pem);

// Checks that a PEM private key loads (with the passphrase); throws
// siphon::Error naming the problem otherwise. Used to validate key files.
void check_private_key(const std::string& private_key_pem, const std::string& passphrase = "");

}  // namespace siphon::auth

#endif  // SIPHON_AUTH_HELPERS_HPP
