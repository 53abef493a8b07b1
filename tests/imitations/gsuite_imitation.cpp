#include "gsuite_imitation.hpp"

#include <Poco/Crypto/EVPPKey.h>
#include <Poco/Crypto/RSAKey.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>
#include <Poco/StringTokenizer.h>

#include <algorithm>
#include <set>
#include <siphon/time_format.hpp>
#include <sstream>

namespace siphon::imitation {
namespace {

constexpr char kJwtGrant[] = "urn:ietf:params:oauth:grant-type:jwt-bearer";
constexpr char kApiPrefix[] = "/admin/reports/v1/activity/users/";
constexpr int64_t kMaxSkewSeconds = 300;

// The Reports API applications, each with one kind of event.
struct AppEvent {
  const char* application;
  const char* type;
  const char* name;
  const char* parameter;
};
constexpr AppEvent kApps[] = {
    {"access_transparency", "GSUITE_RESOURCE", "ACCESS", "ACCESS_REASON"},
    {"admin", "USER_SETTINGS", "CHANGE_PASSWORD", "USER_EMAIL"},
    {"calendar", "event_change", "change_event_title", "calendar_id"},
    {"chat", "user_action", "message_posted", "room_name"},
    {"drive", "access", "view", "doc_title"},
    {"gcp", "os_login", "os_login_success", "instance_id"},
    {"gplus", "post_change", "create_post", "post_id"},
    {"groups", "acl_change", "change_acl_permission", "group_email"},
    {"groups_enterprise", "moderator_action", "add_member", "group_id"},
    {"jamboard", "DEVICE_STATE_CHANGE", "DEVICE_STATE_CHANGE", "device_id"},
    {"login", "login", "login_success", "login_type"},
    {"meet", "call", "call_ended", "meeting_code"},
    {"mobile", "device_updates", "DEVICE_SYNC_EVENT", "DEVICE_ID"},
    {"rules", "rule_trigger_type", "rule_match", "rule_name"},
    {"saml", "login", "login_success", "application_name"},
    {"token", "auth", "authorize", "client_id"},
    {"user_accounts", "2sv_change", "2sv_enroll", "user_email"},
    {"context_aware_access", "ACCESS_DENY_EVENT", "ACCESS_DENY_EVENT", "CAA_ACCESS_LEVEL_APPLIED"},
    {"chrome", "BROWSER_EXTENSION_INSTALL", "BROWSER_EXTENSION_INSTALL", "APP_NAME"},
    {"data_studio", "ACCESS", "VIEW", "ASSET_NAME"},
    {"keep", "user_action", "edit_note", "note_name"},
    {"vault", "vault_action", "search", "query"},
};
constexpr const char* kActors[] = {"admin@example.com", "jdoe@example.com", "mroe@example.com",
                                   "asmith@example.com"};

const AppEvent* find_app(const std::string& application) {
  for (const auto& a : kApps)
    if (application == a.application) return &a;
  return nullptr;
}

std::string token_error(Reply& reply, const std::string& error, const std::string& description) {
  reply.status = 400;
  reply.body =
      R"({"error":")" + error + R"(","error_description":")" + json_escape(description) + R"("})";
  return error;
}

std::string claim_text(const Poco::JSON::Object& object, const std::string& name) {
  Poco::Dynamic::Var v = object.get(name);
  return v.isString() ? v.toString() : std::string();
}

std::string random_text(std::mt19937_64& rng, size_t length, const std::string& alphabet) {
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::string out;
  for (size_t i = 0; i < length; ++i) out += alphabet[pick(rng)];
  return out;
}
const std::string kHex = "0123456789abcdef";
const std::string kTokenChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void invalid_argument(Reply& reply, const std::string& message) {
  reply.status = 400;
  reply.body = GsuiteImitation::error_body(400, "INVALID_ARGUMENT", "invalid", message);
}

}  // namespace

GsuiteImitation::Keyfile GsuiteImitation::make_keyfile(const std::string& admin_email) {
  Poco::Crypto::RSAKey rsa(Poco::Crypto::RSAKey::KL_2048, Poco::Crypto::RSAKey::EXP_LARGE);
  Poco::Crypto::EVPPKey key(&rsa);
  std::ostringstream public_pem, private_pem;  // PKCS#8, as Google's key files hold
  key.save(&public_pem, &private_pem, "");
  std::mt19937_64 rng{std::random_device{}()};
  Keyfile out;
  out.private_key_pem = private_pem.str();
  out.account.client_email = "siphon-reader@corp-logs-4711.iam.gserviceaccount.com";
  out.account.private_key_id = random_text(rng, 40, kHex);
  out.account.public_key_pem = public_pem.str();
  out.account.admin_email = admin_email;
  const std::string client_id = "1" + random_text(rng, 20, "0123456789");
  out.json =
      "{\n  \"type\": \"service_account\",\n  \"project_id\": \"corp-logs-4711\",\n"
      "  \"private_key_id\": \"" +
      out.account.private_key_id + "\",\n  \"private_key\": \"" + json_escape(out.private_key_pem) +
      "\",\n  \"client_email\": \"" + out.account.client_email + "\",\n  \"client_id\": \"" +
      client_id +
      "\",\n  \"auth_uri\": \"https://accounts.google.com/o/oauth2/auth\",\n"
      "  \"token_uri\": \"" +
      std::string(kTokenUri) +
      "\",\n  \"auth_provider_x509_cert_url\": "
      "\"https://www.googleapis.com/oauth2/v1/certs\",\n"
      "  \"client_x509_cert_url\": "
      "\"https://www.googleapis.com/robot/v1/metadata/x509/"
      "siphon-reader%40corp-logs-4711.iam.gserviceaccount.com\"\n}\n";
  return out;
}

std::string GsuiteImitation::error_body(int code, const std::string& status,
                                        const std::string& reason, const std::string& message,
                                        const std::string& domain) {
  const std::string m = json_escape(message);
  return R"({"error":{"code":)" + std::to_string(code) + R"(,"message":")" + m +
         R"(","errors":[{"message":")" + m + R"(","domain":")" + domain + R"(","reason":")" +
         reason + R"("}],"status":")" + status + R"("}})";
}

std::string GsuiteImitation::rate_limit_body() {
  return error_body(403, "PERMISSION_DENIED", "rateLimitExceeded",
                    "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute' of "
                    "service 'admin.googleapis.com'.",
                    "usageLimits");
}

std::string GsuiteImitation::exhausted_body() {
  return error_body(429, "RESOURCE_EXHAUSTED", "rateLimitExceeded",
                    "Resource has been exhausted (e.g. check quota).", "usageLimits");
}

std::string GsuiteImitation::backend_error_body() {
  return error_body(503, "UNAVAILABLE", "backendError", "The service is currently unavailable.");
}

GsuiteImitation::GsuiteImitation(Account account) : account_(std::move(account)) {
  std::istringstream public_pem(account_.public_key_pem);
  public_key_ = new Poco::Crypto::RSAKey(&public_pem);
}

GsuiteImitation::~GsuiteImitation() { stop(); }

std::vector<std::string> GsuiteImitation::add_activities(const std::string& application, size_t n,
                                                         int64_t time_ms, int64_t step_ms) {
  const AppEvent* app = find_app(application);
  if (app == nullptr) throw std::invalid_argument("unknown application " + application);
  std::lock_guard lock(state_mu_);
  std::vector<std::string> qualifiers;
  const int64_t visible_ms = clock_ms() + lag_ms_;
  for (size_t i = 0; i < n; ++i) {
    Activity a;
    a.application = application;
    a.time_ms = time_ms + static_cast<int64_t>(i) * step_ms;
    a.visible_ms = visible_ms;
    a.seq = next_seq_++;
    a.actor_email = kActors[a.seq % 4];
    const std::string uq = std::to_string(static_cast<int64_t>(rng_()));
    qualifiers.push_back(uq);
    const std::string etag = "\\\"q1w2e3r4t5/" + random_text(rng_, 12, kTokenChars) + "\\\"";
    a.json = R"({"kind":"admin#reports#activity","etag":")" + etag + R"(","id":{"time":")" +
             timefmt::rfc3339(a.time_ms, true) + R"(","uniqueQualifier":")" + uq +
             R"(","applicationName":")" + application + R"(","customerId":")" +
             account_.customer_id + R"("},"actor":{"callerType":"USER","email":")" + a.actor_email +
             R"(","profileId":")" + std::to_string(114511147312345678ULL + a.seq) +
             R"("},"ipAddress":"203.0.113.)" + std::to_string(a.seq % 250 + 1) +
             R"(","ownerDomain":"example.com","events":[{"type":")" + app->type + R"(","name":")" +
             app->name + R"(","parameters":[{"name":")" + app->parameter + R"(","value":"value-)" +
             std::to_string(a.seq) + R"("},{"name":"sequence","intValue":")" +
             std::to_string(a.seq) + R"("}]}]})";
    activities_.push_back(std::move(a));
  }
  return qualifiers;
}

size_t GsuiteImitation::activities(const std::string& application) const {
  std::lock_guard lock(state_mu_);
  return static_cast<size_t>(
      std::count_if(activities_.begin(), activities_.end(),
                    [&](const Activity& a) { return a.application == application; }));
}

void GsuiteImitation::set_reporting_lag_ms(int64_t lag_ms) {
  std::lock_guard lock(state_mu_);
  lag_ms_ = lag_ms;
}
int64_t GsuiteImitation::issued_tokens() const {
  std::lock_guard lock(state_mu_);
  return issued_tokens_;
}
void GsuiteImitation::revoke_tokens() {
  std::lock_guard lock(state_mu_);
  tokens_.clear();
}
void GsuiteImitation::set_token_lifetime_seconds(int64_t seconds) {
  std::lock_guard lock(state_mu_);
  token_lifetime_seconds_ = seconds;
}
void GsuiteImitation::set_delegation_granted(bool granted) {
  std::lock_guard lock(state_mu_);
  delegation_granted_ = granted;
}
void GsuiteImitation::set_admin(bool is_admin) {
  std::lock_guard lock(state_mu_);
  admin_ = is_admin;
}
void GsuiteImitation::set_clock_offset_ms(int64_t offset_ms) {
  std::lock_guard lock(state_mu_);
  clock_offset_ms_ = offset_ms;
}
void GsuiteImitation::fail_activities_call(size_t nth, int status, const std::string& body,
                                           int count) {
  std::lock_guard lock(state_mu_);
  call_faults_.push_back({nth == 0 ? 0 : nth - 1, status, body, count});
}
void GsuiteImitation::expire_page_tokens() {
  std::lock_guard lock(state_mu_);
  pages_.clear();
}
void GsuiteImitation::clear_activities_failures() {
  std::lock_guard lock(state_mu_);
  call_faults_.clear();
}
std::vector<std::vector<std::pair<std::string, std::string>>> GsuiteImitation::activity_queries()
    const {
  std::lock_guard lock(state_mu_);
  return queries_;
}

int64_t GsuiteImitation::clock_ms() const { return now_ms() + clock_offset_ms_; }

void GsuiteImitation::handle(const Request& request, Reply& reply) {
  if (request.path == "/token" || request.path == "/o/oauth2/token") {
    if (request.method != "POST") {
      reply.status = 405;
      reply.body = error_body(405, "METHOD_NOT_ALLOWED", "methodNotAllowed", "Method Not Allowed");
      return;
    }
    return token(request, reply);
  }
  // /admin/reports/v1/activity/users/{userKey}/applications/{applicationName}
  if (request.path.rfind(kApiPrefix, 0) == 0) {
    const std::string rest = request.path.substr(sizeof(kApiPrefix) - 1);
    const size_t slash = rest.find("/applications/");
    if (slash != std::string::npos && slash > 0 &&
        rest.find('/', slash + 14) == std::string::npos && request.method == "GET")
      return list(request, rest.substr(0, slash), rest.substr(slash + 14), reply);
  }
  reply.status = 404;
  reply.body = error_body(404, "NOT_FOUND", "notFound", "Not Found");
}

void GsuiteImitation::token(const Request& request, Reply& reply) {
  if (request.param("grant_type") != kJwtGrant) {
    token_error(reply, "unsupported_grant_type",
                "Invalid grant_type: " + request.param("grant_type"));
    return;
  }
  std::string error;
  std::string subject;
  std::string why = check_assertion(request.param("assertion"), error, subject);
  if (!why.empty()) {
    token_error(reply, error, why);
    return;
  }
  std::lock_guard lock(state_mu_);
  std::string token = "ya29.c.b0Aa" + random_text(rng_, 120, kTokenChars);
  tokens_[token] = {clock_ms() + token_lifetime_seconds_ * 1000, subject};
  ++issued_tokens_;
  reply.body = R"({"access_token":")" + token + R"(","expires_in":3599,"token_type":"Bearer"})";
}

std::string GsuiteImitation::check_assertion(const std::string& jwt, std::string& error,
                                             std::string& subject) {
  error = "invalid_grant";
  Poco::JWT::Token token;
  try {
    Poco::JWT::Signer signer(public_key_);
    signer.addAlgorithm(Poco::JWT::Signer::ALGO_RS256);
    token = signer.verify(jwt);
  } catch (const Poco::Exception&) {
    return "Invalid JWT Signature.";  // malformed, another algorithm, or another key
  }
  if (token.getAlgorithm() != "RS256" ||
      claim_text(token.header(), "kid") != account_.private_key_id)
    return "Invalid JWT Signature.";
  const Poco::JSON::Object& claims = token.payload();
  if (claim_text(claims, "iss") != account_.client_email) return "Invalid grant: account not found";
  if (claim_text(claims, "aud") != kTokenUri)
    return "Invalid JWT: Failed audience check. The expected audience is " +
           std::string(kTokenUri) + ".";
  Poco::Dynamic::Var iat = claims.get("iat"), exp = claims.get("exp");
  const int64_t now_s = clock_ms() / 1000;
  if (!iat.isInteger() || !exp.isInteger() || exp.convert<int64_t>() <= iat.convert<int64_t>() ||
      exp.convert<int64_t>() - iat.convert<int64_t>() > 3600 ||
      std::abs(iat.convert<int64_t>() - now_s) > kMaxSkewSeconds || exp.convert<int64_t>() <= now_s)
    return "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
           "timeframe. Check your iat and exp values in the JWT claim.";
  const std::string sub = claim_text(claims, "sub");
  std::lock_guard lock(state_mu_);
  if (sub.empty() || !delegation_granted_) {
    error = "unauthorized_client";
    return "Client is unauthorized to retrieve access tokens using this method, or client not "
           "authorized for any of the scopes requested.";
  }
  if (sub != account_.admin_email && sub != kActors[1] && sub != kActors[2] && sub != kActors[3])
    return "Invalid email or User ID";
  subject = sub;
  bool has_scope = false;
  for (const auto& s : Poco::StringTokenizer(claim_text(claims, "scope"), " ",
                                             Poco::StringTokenizer::TOK_IGNORE_EMPTY))
    has_scope = has_scope || s == kScope;
  if (!has_scope) {
    error = "unauthorized_client";
    return "Client is unauthorized to retrieve access tokens using this method, or client not "
           "authorized for any of the scopes requested.";
  }
  return "";
}

void GsuiteImitation::list(const Request& request, const std::string& user_key,
                           const std::string& application, Reply& reply) {
  std::lock_guard lock(state_mu_);
  // Every call counts for every waiting fault; the first one due answers.
  auto due = call_faults_.end();
  for (auto it = call_faults_.begin(); it != call_faults_.end(); ++it) {
    if (it->skip > 0)
      --it->skip;
    else if (due == call_faults_.end())
      due = it;
  }
  if (due != call_faults_.end()) {
    reply.status = due->status;
    reply.body = due->body;
    if (--due->count <= 0) call_faults_.erase(due);
    return;
  }
  queries_.push_back(request.params);
  const std::string auth = request.header("authorization");
  auto token = auth.rfind("Bearer ", 0) == 0 ? tokens_.find(auth.substr(7)) : tokens_.end();
  const int64_t now = clock_ms();
  if (token == tokens_.end() || token->second.first <= now) {
    reply.status = 401;
    reply.headers.emplace_back(
        "WWW-Authenticate",
        R"(Bearer realm="https://accounts.google.com/", error="invalid_token")");
    reply.body = error_body(401, "UNAUTHENTICATED", "authError",
                            "Request had invalid authentication credentials. Expected OAuth 2 "
                            "access token, login cookie or other valid authentication credential.");
    return;
  }
  if (!admin_ || token->second.second != account_.admin_email) {
    reply.status = 403;
    reply.body = error_body(403, "PERMISSION_DENIED", "forbidden",
                            "Not Authorized to access this resource/api");
    return;
  }
  if (find_app(application) == nullptr)
    return invalid_argument(reply, "Invalid value '" + application + "' for applicationName");

  int64_t start_ms = 0, end_ms = now;
  try {
    if (request.has_param("startTime"))
      start_ms = timefmt::parse_rfc3339(request.param("startTime"));
    if (request.has_param("endTime")) end_ms = timefmt::parse_rfc3339(request.param("endTime"));
  } catch (const std::exception&) {
    return invalid_argument(reply, "Invalid value for startTime or endTime (RFC 3339 expected)");
  }
  if (request.has_param("startTime") && start_ms > now)
    return invalid_argument(reply, "Start time must be less than the current time");
  if (start_ms >= end_ms) return invalid_argument(reply, "Start time must be less than end time");
  int64_t max_results = 1000;
  if (request.has_param("maxResults")) {
    const std::string text = request.param("maxResults");
    if (text.empty() || text.size() > 4 ||
        text.find_first_not_of("0123456789") != std::string::npos)
      return invalid_argument(reply, "Invalid value '" + text + "' for maxResults");
    max_results = std::stoll(text);
    if (max_results < 1 || max_results > 1000)
      return invalid_argument(reply, "Invalid value '" + text + "' for maxResults");
  }

  // Every parameter but the page token; a token is only good for the same query.
  std::string signature = user_key + "|" + application;
  for (const auto& [k, v] : request.params)
    if (k != "pageToken") signature += "|" + k + "=" + v;
  bool after = false;
  int64_t after_time = 0;
  uint64_t after_seq = 0;
  if (request.has_param("pageToken")) {
    auto page = pages_.find(request.param("pageToken"));
    if (page == pages_.end() || page->second.query != signature)
      return invalid_argument(reply, "Invalid value for pageToken");
    after = true;
    after_time = page->second.last_time_ms;
    after_seq = page->second.last_seq;
  }

  std::vector<const Activity*> matches;
  for (const auto& a : activities_) {
    if (a.application != application || a.visible_ms > now) continue;
    if (a.time_ms < start_ms || a.time_ms > end_ms) continue;
    if (user_key != "all" && a.actor_email != user_key) continue;
    if (after && (a.time_ms > after_time || (a.time_ms == after_time && a.seq >= after_seq)))
      continue;
    matches.push_back(&a);
  }
  std::sort(matches.begin(), matches.end(), [](const Activity* x, const Activity* y) {
    return x->time_ms != y->time_ms ? x->time_ms > y->time_ms : x->seq > y->seq;
  });
  std::string body = R"({"kind":"admin#reports#activities","etag":"\"q1w2e3r4t5/)" +
                     random_text(rng_, 16, kTokenChars) + R"(\"")";
  if (!matches.empty()) {
    const size_t n = std::min<size_t>(matches.size(), static_cast<size_t>(max_results));
    body += R"(,"items":[)";
    for (size_t i = 0; i < n; ++i) body += (i ? "," : "") + matches[i]->json;
    body += "]";
    if (n < matches.size()) {
      const Activity& last = *matches[n - 1];
      std::string next = "A:" + std::to_string(last.time_ms * 1000) + ":" +
                         random_text(rng_, 19, "0123456789") + ":" + std::to_string(n) + ":" +
                         account_.customer_id;
      pages_[next] = {signature, last.time_ms, last.seq};
      body += R"(,"nextPageToken":")" + next + "\"";
    }
  }
  reply.body = body + "}";
}

}  // namespace siphon::imitation
