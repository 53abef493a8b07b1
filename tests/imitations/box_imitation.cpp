#include "box_imitation.hpp"

#include <Poco/Crypto/EVPPKey.h>
#include <Poco/Crypto/RSAKey.h>
#include <Poco/DateTime.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeParser.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>
#include <Poco/StringTokenizer.h>

#include <cstdio>
#include <ctime>
#include <sstream>

namespace siphon::imitation {
namespace {

constexpr char kJwtGrant[] = "urn:ietf:params:oauth:grant-type:jwt-bearer";
constexpr char kAudience[] = "https://api.box.com/oauth2/token";
constexpr uint64_t kPositionBase = 1152921504606846976ULL;  // positions look like Box's
constexpr size_t kMaxLimit = 500;
constexpr size_t kDefaultLimit = 100;

struct User {
  const char* id;
  const char* name;
  const char* login;
};
constexpr User kUsers[] = {{"11446498", "Ada Admin", "ada@example.com"},
                           {"22553311", "Bo Chen", "bo@example.com"},
                           {"30917742", "Carmen Diaz", "carmen@example.com"},
                           {"41782205", "Dev Patel", "dev@example.com"}};

std::string user_json(const User& u) {
  return std::string(R"({"type":"user","id":")") + u.id + R"(","name":")" + u.name +
         R"(","login":")" + u.login + R"("})";
}

std::string random_text(std::mt19937_64& rng, size_t length, const std::string& alphabet) {
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::string out;
  for (size_t i = 0; i < length; ++i) out += alphabet[pick(rng)];
  return out;
}
const std::string kLowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789";
const std::string kAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + kLowerAlnum;

// "2024-05-01T10:15:32-07:00": Box reports times in the enterprise's zone.
std::string box_time(int64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000 - 7 * 3600);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S-07:00", &tm);
  return buf;
}

// Parses RFC 3339 with an offset or Z; false when the text is not one.
bool parse_time(const std::string& text, int64_t& unix_ms) {
  Poco::DateTime dt;
  int tzd = 0;
  if (!Poco::DateTimeParser::tryParse(Poco::DateTimeFormat::ISO8601_FORMAT, text, dt, tzd))
    return false;
  unix_ms = dt.timestamp().epochMicroseconds() / 1000 - int64_t{tzd} * 1000;
  return true;
}

// A made-up admin event in the shape of box.md's sample (~500 bytes).
std::string make_event(size_t index, int64_t created_ms, const std::string& event_id,
                       std::string& event_type) {
  const User& actor = kUsers[index % 4];
  const User& owner = kUsers[(index + 1) % 4];
  const std::string item_id = std::to_string(1234567890 + index);
  std::string source = "null", details = "null";
  switch (index % 6) {
    case 0:
      event_type = "ADMIN_LOGIN";
      source = user_json(actor);
      break;
    case 1:
    case 2:
      event_type = index % 6 == 1 ? "DOWNLOAD" : "UPLOAD";
      source =
          R"({"item_type":"file","item_id":")" + item_id + R"(","item_name":"Q)" +
          std::to_string(index % 4 + 1) +
          R"( plan.xlsx","parent":{"type":"folder","name":"Finance","id":"98765"},"owned_by":)" +
          user_json(owner) + "}";
      details = R"({"size":)" + std::to_string(40000 + index * 37 % 9000) + R"(,"version_id":")" +
                std::to_string(555501 + index) + R"("})";
      break;
    case 3:
      event_type = "COLLABORATION_INVITE";
      source =
          R"({"item_type":"folder","item_id":")" + item_id +
          R"(","item_name":"Legal","parent":{"type":"folder","name":"All Files","id":"0"},"owned_by":)" +
          user_json(owner) + "}";
      details = R"({"role":"editor","is_performed_by_admin":false})";
      break;
    case 4:
      event_type = "GROUP_ADD_USER";
      source = R"({"type":"group","id":"7731)" + std::to_string(index % 10) +
               R"(","name":"Engineering"})";
      details = R"({"user_id":")" + std::string(owner.id) + R"("})";
      break;
    default:
      event_type = "FAILED_LOGIN";
      break;
  }
  return R"({"type":"event","event_id":")" + event_id + R"(","created_by":)" + user_json(actor) +
         R"(,"created_at":")" + box_time(created_ms) + R"(","event_type":")" + event_type +
         R"(","ip_address":"203.0.113.)" + std::to_string(index % 250 + 1) +
         R"(","session_id":null,"source":)" + source + R"(,"additional_details":)" + details +
         R"(,"action_by":null})";
}

// Box's error body for the API (not the token endpoint).
void api_error(Reply& reply, int status, const std::string& code, const std::string& message) {
  reply.status = status;
  reply.body =
      R"({"type":"error","status":)" + std::to_string(status) + R"(,"code":")" + code +
      R"(","message":")" + json_escape(message) +
      R"(","help_url":"https://developer.box.com/guides/api-calls/permissions-and-errors/common-errors/","request_id":")" +
      std::to_string(now_ms() % 1000000007) + R"(","context_info":{}})";
}

void token_error(Reply& reply, const std::string& error, const std::string& description) {
  reply.status = 400;
  reply.body =
      R"({"error":")" + error + R"(","error_description":")" + json_escape(description) + R"("})";
}

std::string claim_text(const Poco::JSON::Object& object, const std::string& name) {
  Poco::Dynamic::Var v = object.get(name);
  return v.isString() ? v.toString() : std::string();
}

}  // namespace

BoxImitation::Keyfile BoxImitation::make_keyfile(const std::string& enterprise_id,
                                                 const std::string& passphrase) {
  Poco::Crypto::RSAKey rsa(Poco::Crypto::RSAKey::KL_2048, Poco::Crypto::RSAKey::EXP_LARGE);
  Poco::Crypto::EVPPKey key(&rsa);
  std::ostringstream public_pem, private_pem;  // EVPPKey writes PKCS#8, encrypted
  key.save(&public_pem, &private_pem, passphrase);

  std::mt19937_64 rng{std::random_device{}()};
  Keyfile out;
  out.public_key_pem = public_pem.str();
  out.credentials = {random_text(rng, 32, kLowerAlnum), random_text(rng, 32, kAlnum), enterprise_id,
                     random_text(rng, 8, kLowerAlnum), out.public_key_pem};
  out.private_key_pem = private_pem.str();
  out.passphrase = passphrase;
  const Credentials& c = out.credentials;
  out.json = "{\n  \"boxAppSettings\": {\n    \"clientID\": \"" + c.client_id +
             "\",\n    \"clientSecret\": \"" + c.client_secret +
             "\",\n    \"appAuth\": {\n      \"publicKeyID\": \"" + c.public_key_id +
             "\",\n      \"privateKey\": \"" + json_escape(private_pem.str()) +
             "\",\n      \"passphrase\": \"" + json_escape(passphrase) +
             "\"\n    }\n  },\n  \"webhooks\": {\n    \"primaryKey\": \"\",\n    "
             "\"secondaryKey\": \"\"\n  },\n  \"enterpriseID\": \"" +
             enterprise_id + "\"\n}\n";
  return out;
}

BoxImitation::BoxImitation(Credentials credentials) : credentials_(std::move(credentials)) {
  std::istringstream public_pem(credentials_.public_key_pem);
  public_key_ = new Poco::Crypto::RSAKey(&public_pem);
}

BoxImitation::~BoxImitation() { stop(); }

void BoxImitation::add_events(size_t n, int64_t start_time_ms) {
  std::lock_guard lock(state_mu_);
  for (size_t i = 0; i < n; ++i) {
    Event e;
    size_t index = events_.size();
    e.created_ms = (start_time_ms / 1000 + static_cast<int64_t>(i)) * 1000;
    char id[40];
    std::snprintf(id, sizeof id, "%08x-%04x-4%03x-a%03x-%012zx", static_cast<unsigned>(rng_()),
                  static_cast<unsigned>(rng_() & 0xffff), static_cast<unsigned>(rng_() & 0xfff),
                  static_cast<unsigned>(rng_() & 0xfff), index);
    e.event_id = id;
    e.json = make_event(index, e.created_ms, e.event_id, e.event_type);
    events_.push_back(std::move(e));
  }
}

size_t BoxImitation::events() const {
  std::lock_guard lock(state_mu_);
  return events_.size();
}

int64_t BoxImitation::issued_tokens() const {
  std::lock_guard lock(state_mu_);
  return issued_tokens_;
}

std::string BoxImitation::position_at(size_t index) {
  return std::to_string(kPositionBase + index);
}

void BoxImitation::revoke_tokens() {
  std::lock_guard lock(state_mu_);
  tokens_.clear();
}

void BoxImitation::set_token_lifetime_seconds(int64_t seconds) {
  std::lock_guard lock(state_mu_);
  token_lifetime_seconds_ = seconds;
}
void BoxImitation::set_max_page(size_t entries) {
  std::lock_guard lock(state_mu_);
  max_page_ = entries;
}
void BoxImitation::set_position_as_number(bool on) {
  std::lock_guard lock(state_mu_);
  position_as_number_ = on;
}
void BoxImitation::set_repeat_last_event(bool on) {
  std::lock_guard lock(state_mu_);
  repeat_last_event_ = on;
}
void BoxImitation::set_not_admin(bool on) {
  std::lock_guard lock(state_mu_);
  not_admin_ = on;
}
void BoxImitation::set_clock_offset_ms(int64_t offset_ms) {
  std::lock_guard lock(state_mu_);
  clock_offset_ms_ = offset_ms;
}

int64_t BoxImitation::clock_ms() const { return now_ms() + clock_offset_ms_; }

void BoxImitation::handle(const Request& request, Reply& reply) {
  if (request.path == "/oauth2/token") {
    if (request.method != "POST")
      return api_error(reply, 405, "method_not_allowed", "Method Not Allowed");
    return token(request, reply);
  }
  if (request.path == "/2.0/events") {
    if (request.method != "GET")
      return api_error(reply, 405, "method_not_allowed", "Method Not Allowed");
    return events_page(request, reply);
  }
  api_error(reply, 404, "not_found", "Not Found");
}

void BoxImitation::token(const Request& request, Reply& reply) {
  const std::string grant = request.param("grant_type");
  if (grant != kJwtGrant && grant != "client_credentials")
    return token_error(reply, "unsupported_grant_type",
                       "Invalid grant_type parameter or parameter missing");
  if (request.param("client_id") != credentials_.client_id ||
      request.param("client_secret") != credentials_.client_secret)
    return token_error(reply, "invalid_client", "The client credentials are invalid");
  if (grant == "client_credentials") {
    if (request.param("box_subject_type") != "enterprise")
      return token_error(reply, "unauthorized_client",
                         "The \"box_subject_type\" value is unauthorized for this client_id");
    if (request.param("box_subject_id") != credentials_.enterprise_id)
      return token_error(reply, "invalid_grant", "Grant credentials are invalid");
  } else {
    std::string why = check_assertion(request.param("assertion"));
    if (!why.empty()) return token_error(reply, "invalid_grant", why);
  }
  issue_token(reply);
}

std::string BoxImitation::check_assertion(const std::string& jwt) {
  static const std::string kInvalid = "Grant credentials are invalid";
  Poco::JWT::Token token;
  try {
    Poco::JWT::Signer signer(public_key_);
    signer.addAlgorithm(Poco::JWT::Signer::ALGO_RS256)
        .addAlgorithm(Poco::JWT::Signer::ALGO_RS384)
        .addAlgorithm(Poco::JWT::Signer::ALGO_RS512);
    token = signer.verify(jwt);
  } catch (const Poco::Exception&) {
    return kInvalid;  // malformed, or not signed by the registered key
  }
  const std::string alg = token.getAlgorithm();
  if (alg.rfind("RS", 0) != 0 || claim_text(token.header(), "kid") != credentials_.public_key_id)
    return kInvalid;
  const Poco::JSON::Object& claims = token.payload();
  if (claim_text(claims, "iss") != credentials_.client_id)
    return "Please check the 'iss' claim. The 'iss' specified is invalid.";
  const std::string sub_type = claim_text(claims, "box_sub_type");
  if (sub_type != "enterprise" && sub_type != "user")
    return "Please check the 'box_sub_type' claim. The 'box_sub_type' specified is invalid.";
  if (sub_type != "enterprise" || claim_text(claims, "sub") != credentials_.enterprise_id)
    return "Please check the 'sub' claim. The 'sub' specified is invalid.";
  if (claim_text(claims, "aud") != kAudience)
    return "Please check the 'aud' claim. The 'aud' specified is invalid.";
  Poco::Dynamic::Var exp = claims.get("exp");
  if (!exp.isInteger()) return "Please check the 'exp' claim. The 'exp' specified is invalid.";
  const int64_t now_s = clock_ms() / 1000;
  if (exp.convert<int64_t>() <= now_s)
    return "Current date/time MUST be before the expiration date/time listed in the 'exp' claim";
  if (exp.convert<int64_t>() - now_s > 60)
    return "Please check the 'exp' claim. The 'exp' value exceeds the maximum value of 60 seconds "
           "beyond the issue time.";
  const std::string jti = claim_text(claims, "jti");
  if (jti.size() < 16 || jti.size() > 128)
    return "Please check the 'jti' claim. The 'jti' specified is invalid.";
  std::lock_guard lock(state_mu_);
  if (!used_jtis_.insert(jti).second)
    return "Please check the 'jti' claim. A unique 'jti' value is required.";
  return "";
}

void BoxImitation::issue_token(Reply& reply) {
  std::lock_guard lock(state_mu_);
  std::string token = random_text(rng_, 32, kAlnum);
  tokens_[token] = clock_ms() + token_lifetime_seconds_ * 1000;
  ++issued_tokens_;
  reply.body = R"({"access_token":")" + token + R"(","expires_in":)" +
               std::to_string(token_lifetime_seconds_) +
               R"(,"restricted_to":[],"token_type":"bearer"})";
}

void BoxImitation::events_page(const Request& request, Reply& reply) {
  std::lock_guard lock(state_mu_);
  const std::string auth = request.header("authorization");
  auto token = auth.rfind("Bearer ", 0) == 0 ? tokens_.find(auth.substr(7)) : tokens_.end();
  if (token == tokens_.end() || token->second <= clock_ms()) {
    reply.status = 401;
    reply.headers.emplace_back("WWW-Authenticate",
                               R"(Bearer realm="Service", error="invalid_token", )"
                               R"(error_description="The access token provided is invalid.")");
    return;
  }
  if (not_admin_)
    return api_error(reply, 403, "access_denied_insufficient_permissions",
                     "Access denied - insufficient permission");
  if (request.param("stream_type") != "admin_logs")
    return api_error(reply, 400, "bad_request",
                     "Invalid value for 'stream_type': this imitation serves admin_logs only");

  size_t limit = kDefaultLimit;
  if (request.has_param("limit")) {
    const std::string text = request.param("limit");
    if (text.empty() || text.size() > 9 ||
        text.find_first_not_of("0123456789") != std::string::npos || std::stoul(text) == 0)
      return api_error(reply, 400, "bad_request", "Invalid value for 'limit'");
    limit = std::min<size_t>(std::stoul(text), kMaxLimit);
  }
  if (max_page_ > 0) limit = std::min(limit, max_page_);

  const bool has_position = request.has_param("stream_position");
  size_t start = 0, end = events_.size();
  if (has_position) {
    const std::string text = request.param("stream_position");
    if (text == "now") {
      start = events_.size();
    } else if (text == "0" || text.empty()) {
      start = 0;
    } else {
      uint64_t value = 0;
      if (text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos ||
          (value = std::stoull(text)) < kPositionBase)
        return api_error(reply, 400, "bad_request", "Invalid value for 'stream_position'");
      start = static_cast<size_t>(std::min<uint64_t>(value - kPositionBase, events_.size()));
    }
  } else {  // created_after / created_before count only without a position
    int64_t after_ms = 0, before_ms = 0;
    if (request.has_param("created_after")) {
      if (!parse_time(request.param("created_after"), after_ms))
        return api_error(reply, 400, "bad_request", "Invalid value for 'created_after'");
      while (start < events_.size() && events_[start].created_ms < after_ms) ++start;
    }
    if (request.has_param("created_before")) {
      if (!parse_time(request.param("created_before"), before_ms))
        return api_error(reply, 400, "bad_request", "Invalid value for 'created_before'");
      end = start;
      while (end < events_.size() && events_[end].created_ms < before_ms) ++end;
    }
  }
  std::set<std::string> types;
  if (request.has_param("event_type"))
    for (const auto& t :
         Poco::StringTokenizer(request.param("event_type"), ",", Poco::StringTokenizer::TOK_TRIM))
      types.insert(t);

  std::vector<size_t> page;
  if (repeat_last_event_ && has_position && start > 0 && start < end && limit >= 2)
    page.push_back(start - 1);  // Box repeats events across pages
  size_t next = start;
  for (; next < end && page.size() < limit; ++next)
    if (types.empty() || types.count(events_[next].event_type)) page.push_back(next);

  std::string position = position_at(next);
  std::string body = R"({"chunk_size":)" + std::to_string(page.size()) +
                     R"(,"next_stream_position":)" +
                     (position_as_number_ ? position : "\"" + position + "\"") + R"(,"entries":[)";
  for (size_t i = 0; i < page.size(); ++i) {
    if (i) body += ',';
    body += events_[page[i]].json;
  }
  reply.body = body + "]}";
}

}  // namespace siphon::imitation
