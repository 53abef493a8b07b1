// siphon/error_response.hpp - one mapping from a vendor's error reply to the
// status the host expects.
//
// The host's HTTP service already retries connection errors, 429 and 5xx
// with backoff (honouring Retry-After and rate-limit headers), and follows
// redirects; a plugin sees such a reply only when the host has no retry
// left, and then Context::send has usually thrown RetryLater already. What
// is left to a plugin is the vendor's body: turning it into one line that
// says why, and choosing AuthRejected or Error.
//
//   siphon::Response resp = ctx().get(url, query, headers);
//   siphon::check_response(resp, "GET /admins/activity_logs");   // throws unless 2xx
//
// describe_error() reads the shapes vendors use for errors, in this order,
// taking the first code and the first message found, and a detail
// (message_detail, errors[0].detail, Google's error.errors[0].reason, Okta's
// errorCauses[0].errorSummary) when there is one:
//   {"errors":[{"code":..,"message":..}]}          Intercom, GitHub
//   {"status":{"type":..,"message":..}}            OneLogin
//   {"error":{"status":..,"message":..}}           Google
//   {"code":..,"message":..,"message_detail":..}   Box, Duo
//   {"error":"..","error_description":".."}        OAuth 2.0 token endpoints
//   {"Code":..,"Message":..}                       Alibaba Cloud
//   [{"errorCode":..,"message":..}]                Salesforce
//   {"errorCode":..,"errorSummary":..,
//    "errorCauses":[{"errorSummary":..}]}          Okta
// Each part is cut to 200 characters. Vendor error bodies carry no
// credentials; a plugin whose vendor echoes one must not use this text.
//
// Pure functions; thread-safe.
#ifndef SIPHON_ERROR_RESPONSE_HPP
#define SIPHON_ERROR_RESPONSE_HPP

#include <initializer_list>
#include <siphon/sdk.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace siphon {

// "HTTP 401 unauthorized: Access Token Invalid", or "HTTP 404" when the body
// holds no code or message in a shape known above.
std::string describe_error(const Response& resp);

// How check_response maps statuses that are not 2xx.
struct ErrorPolicy {
  // Statuses that mean the vendor refused the credentials (AuthRejected).
  std::vector<int> auth_rejected = {401};
  // Added to the reason of an AuthRejected, e.g. "(the token needs read_admins)".
  std::string auth_hint;
};

// Returns when `resp` is 2xx. Otherwise throws, with the reason
// "<what>: <describe_error(resp)>":
//   - AuthRejected for a status in policy.auth_rejected;
//   - RetryLater for 429 and 5xx (reached only when the host's own retries
//     are spent: the run ends and the next one tries again);
//   - Error for anything else.
void check_response(const Response& resp, std::string_view what, const ErrorPolicy& policy = {});

}  // namespace siphon

#endif  // SIPHON_ERROR_RESPONSE_HPP
