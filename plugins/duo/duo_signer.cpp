#include "duo_signer.hpp"

#include <Poco/String.h>
#include <Poco/URI.h>

#include <siphon/auth_helpers.hpp>

namespace siphon::duo {

std::string canonical_params(const Params& params) { return encode_params_sorted(params); }

std::string canonical_string(int signature_version, std::string_view date, std::string_view method,
                             std::string_view host, std::string_view path, std::string_view params,
                             std::string_view body) {
  std::string out;
  for (std::string_view line : {date, method, host, path}) {
    out += line;
    out += '\n';
  }
  out += params;
  if (signature_version == 5) {
    // Duo v5 also covers the body and the X-Duo-* headers; we send neither.
    out += '\n' + auth::sha512_hex(body) + '\n' + auth::sha512_hex("");
  }
  return out;
}

std::string signature(int signature_version, std::string_view skey, std::string_view canonical) {
  return signature_version == 5 ? auth::hmac_sha512_hex(skey, canonical)
                                : auth::hmac_sha1_hex(skey, canonical);
}

std::string authorization(std::string_view ikey, std::string_view signature) {
  std::string credentials(ikey);
  credentials += ':';
  credentials += signature;
  return "Basic " + auth::base64_encode(credentials);
}

std::string signing_host(const std::string& url) {
  Poco::URI uri(url);
  std::string host = Poco::toLower(uri.getHost());
  if (host.find(':') != std::string::npos) host = "[" + host + "]";  // IPv6 literal
  const std::string scheme = Poco::toLower(uri.getScheme());
  const unsigned default_port = scheme == "https" ? 443 : scheme == "http" ? 80 : 0;
  if (uri.getPort() != default_port) host += ":" + std::to_string(uri.getPort());
  return host;
}

}  // namespace siphon::duo
