#include "aliyun_signer.hpp"

#include <algorithm>
#include <siphon/auth_helpers.hpp>
#include <utility>
#include <vector>

namespace siphon::aliyun {

std::string percent_encode(std::string_view text) { return url_encode(text); }

std::string canonical_query(const Params& params) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(params.size());
  for (const auto& [k, v] : params) encoded.emplace_back(percent_encode(k), percent_encode(v));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [k, v] : encoded) {
    if (!out.empty()) out += '&';
    out += k + '=' + v;
  }
  return out;
}

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
