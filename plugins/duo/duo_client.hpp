// duo_client.hpp - a signed GET against the Duo Admin API, shared by the
// duo_auth and duo_admin app types: reads the credentials and the common
// options, signs each request afresh (duo_signer.hpp), and turns Duo's error
// replies into siphon::Error or AuthRejected.
#ifndef SIPHON_PLUGINS_DUO_CLIENT_HPP
#define SIPHON_PLUGINS_DUO_CLIENT_HPP

#include <rapidjson/document.h>

#include <cstdint>
#include <siphon/error_response.hpp>
#include <siphon/json.hpp>
#include <siphon/sdk.hpp>
#include <siphon/time_format.hpp>
#include <string>

#include "duo_signer.hpp"

namespace siphon::duo {

// Auth fields and options every Duo app type declares.
inline AuthInfo auth_fields() {
  return {
      {"api_hostname", "Duo Admin API hostname, api-XXXXXXXX.duosecurity.com",
       R"(^api-[a-f0-9]{8}\.duosecurity\.com$)", false},
      {"integration_key", "Admin API integration key (needs the Grant read log permission)",
       "^DI[A-Z0-9]{18}$", true},
      {"secret_key", "Admin API secret key", "^[a-zA-Z0-9]{40}$", true},
  };
}
inline Options common_options() {
  return {
      {"poll_pause_seconds", "Pause between polls of one run; Duo asks for at most 1 call/min",
       "60"},
      {"signature_version", "Duo request signature: 2 (HMAC-SHA1) or 5 (HMAC-SHA512)", "2"},
  };
}

class Client {
 public:
  explicit Client(Context& ctx)
      : ctx_(ctx),
        api_hostname_(ctx.auth("api_hostname")),
        signature_version_(static_cast<int>(ctx.option_int("signature_version", 2, 2, 5))),
        poll_pause_seconds_(
            static_cast<uint32_t>(ctx.option_int("poll_pause_seconds", 60, 0, 3600))) {
    if (signature_version_ != 2 && signature_version_ != 5)
      throw Error("option signature_version: must be 2 or 5");
  }

  // GETs https://<api_hostname><path>?<params>, signed; returns the whole
  // reply document once its stat is "OK".
  rapidjson::Document get(const std::string& path, const Params& params) {
    const std::string url = ctx_.vendor_url("https://" + api_hostname_ + path);
    const std::string query = canonical_params(params);
    // A new Date for every request: Duo refuses stale ones.
    const std::string date = timefmt::rfc2822(ctx_.now_ms());
    const std::string canonical =
        canonical_string(signature_version_, date, "GET", signing_host(url), path, query);
    const Headers headers = {
        {"Date", date},
        {"Authorization",
         authorization(ctx_.auth("integration_key"),
                       signature(signature_version_, ctx_.auth("secret_key"), canonical))},
        {"Accept", "application/json"},
    };
    Response r = ctx_.send("GET", query.empty() ? url : url + "?" + query, headers, "");
    const std::string where = "Duo GET " + path;
    check_response(r, where, {{401, 403}, ""});
    rapidjson::Document doc = r.json(where);
    if (json::find<std::string>(doc, "stat") != "OK") throw Error(where + ": " + describe_error(r));
    json::get<json::Any>(doc, "response", where);
    return doc;
  }

  // Seconds to pause between the polls of one run (option poll_pause_seconds).
  uint32_t poll_pause_seconds() const { return poll_pause_seconds_; }

 private:
  Context& ctx_;
  std::string api_hostname_;
  int signature_version_;
  uint32_t poll_pause_seconds_;
};

}  // namespace siphon::duo

#endif  // SIPHON_PLUGINS_DUO_CLIENT_HPP
