#include "aliyun_signer.hpp"

#include <siphon/auth_helpers.hpp>

namespace siphon::aliyun {

std::string percent_encode(std::string_view text) { return url_encode(text); }

std::string canonical_query(const Params& params) { return encode_params_sorted(params); }

std::string string_to_sign(std::string_view method, std::string_view canonical_query) {
  return std::string(method) + "&" + percent_encode("/") + "&" + percent_encode(canonical_query);
}

std::string signature(std::string_view access_key_secret, std::string_view string_to_sign) {
  std::string key(access_key_secret);
  key += '&';
  return auth::base64_encode(auth::hmac_sha1(key, string_to_sign));
}

std::string signed_query(std::string_view method, const Params& params,
                         std::string_view access_key_secret) {
  const std::string canonical = canonical_query(params);
  return canonical + "&Signature=" +
         percent_encode(signature(access_key_secret, string_to_sign(method, canonical)));
}

}  // namespace siphon::aliyun
