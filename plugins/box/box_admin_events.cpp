// box_admin_events.cpp - Box enterprise admin events: GET /2.0/events with
// stream_type=admin_logs, as the app's service account, whose token comes from
// a JWT signed with the key pair in the app's config.json (JWT bearer grant).
//
// Cursor: {"stream_position":"<opaque>","recent_ids":["<event_id>",...]}.
// recent_ids hold the event ids of the last page that had events, because Box
// repeats events across pages; an entry whose id is there is not delivered again.
#include <siphon/auth_helpers.hpp>
#include <siphon/error_response.hpp>
#include <siphon/json.hpp>
#include <siphon/raw_page.hpp>
#include <siphon/time_format.hpp>
#include <siphon/token_cache.hpp>
#include <unordered_set>

namespace {

constexpr char kTokenUrl[] = "https://api.box.com/oauth2/token";  // also the JWT's aud
constexpr char kEventsUrl[] = "https://api.box.com/2.0/events";
constexpr char kWhere[] = "GET /2.0/events";
constexpr int64_t kMaxLimit = 500;
constexpr size_t kMaxRecentIds = 1000;
// A page: {"entries":[events],"next_stream_position":..,"chunk_size":N}; an event's
// event_id and created_at.
const siphon::RawPage::Spec kPage{
    "entries", {"event_id", "created_at"}, {"next_stream_position", "chunk_size"}};

// A member of the key file by its dotted path; the error names the path only.
std::string keyfile_member(const rapidjson::Value& root, const char* path,
                           bool may_be_empty = false) {
  const auto value = siphon::json::get<siphon::json::Any>(root, path, "keyfile");
  if (!value->IsString() && !value->IsNumber())
    throw siphon::Error(std::string("keyfile: ") + path + " is not a string");
  std::string text = siphon::json::text(root, path);
  if (text.empty() && !may_be_empty)
    throw siphon::Error(std::string("keyfile: ") + path + " is empty");
  return text;
}

}  // namespace

class BoxAdminEvents : public siphon::App {
 public:
  static std::string service() { return "box"; }
  static std::string type() { return "admin_events"; }
  static std::string description() { return "Box enterprise admin events (Events API admin_logs)"; }
  static std::string event_id_field() { return "event_id"; }
  static siphon::AuthInfo required_auth_info() {
    return {{"keyfile", "the Box app's config.json (JWT key pair), e.g. ${file:box.json}",
             R"((?s)\s*\{.*\}\s*)", true}};
  }
  static siphon::Options options() { return {{"limit", "events per page, 1 to 500", "500"}}; }

  // Checks the key file and its private key; no network here.
  explicit BoxAdminEvents(siphon::Context& ctx)
      : App(ctx), limit_(ctx.option_int("limit", kMaxLimit, 1, kMaxLimit)) {
    auto doc = siphon::json::parse(ctx.auth("keyfile"));
    if (!doc || !doc->IsObject())
      throw siphon::Error("keyfile: not a JSON object (expected the Box app's config.json)");
    client_id_ = keyfile_member(*doc, "boxAppSettings.clientID");
    client_secret_ = keyfile_member(*doc, "boxAppSettings.clientSecret");
    public_key_id_ = keyfile_member(*doc, "boxAppSettings.appAuth.publicKeyID");
    private_key_ = keyfile_member(*doc, "boxAppSettings.appAuth.privateKey");
    passphrase_ = keyfile_member(*doc, "boxAppSettings.appAuth.passphrase", true);
    enterprise_id_ = keyfile_member(*doc, "enterpriseID");
    try {
      siphon::auth::check_private_key(private_key_, passphrase_);
    } catch (const std::exception& e) {
      throw siphon::Error(std::string("keyfile: boxAppSettings.appAuth.privateKey: ") + e.what());
    }
  }

  siphon::Logs gather_logs(const siphon::Cursor& cursor) override {
    std::string position;
    std::vector<std::string> recent_ids;
    if (!cursor.empty()) {
      auto doc = siphon::json::parse(cursor.value);
      if (!doc || !siphon::json::find<std::string>(*doc, "stream_position"))
        throw siphon::Error("cursor: not a Box cursor ({\"stream_position\":...}); reset the app");
      position = siphon::json::get<std::string>(*doc, "stream_position");
      recent_ids = siphon::json::strings(*doc, "recent_ids");
    }

    // Box honours created_after only without a stream_position.
    siphon::Params query{{"stream_type", "admin_logs"}, {"limit", std::to_string(limit_)}};
    if (position.empty())
      query.emplace_back("created_after", siphon::timefmt::rfc3339_offset(cursor.start_time_ms));
    else
      query.emplace_back("stream_position", position);
    siphon::Response resp = tokens_.send_authorized(ctx(), [&](const std::string& token) {
      return ctx().get(ctx().vendor_url(kEventsUrl), query, {{"Authorization", "Bearer " + token}});
    });
    siphon::check_response(resp, kWhere);
    const siphon::RawPage page(resp, kPage, kWhere);
    const std::string next(page.member(0).value_or(""));
    if (next.empty()) throw siphon::Error(std::string(kWhere) + ": no next_stream_position");

    siphon::Logs logs;
    logs.reserve(resp.body.size(), page.size());
    // Views into recent_ids and the page, both alive through the loop.
    std::unordered_set<std::string_view> delivered(recent_ids.begin(), recent_ids.end()), on_page;
    std::vector<std::string> page_ids;
    for (size_t i = 0; i < page.size(); ++i) {
      if (auto id = page.field(i, 0)) {
        const bool again_on_page = !on_page.insert(*id).second;
        if (!again_on_page) page_ids.emplace_back(*id);
        if (again_on_page || delivered.count(*id)) {  // Box repeats events across pages
          ++logs.duplicates_dropped;
          continue;
        }
      }
      logs.add(page.record(i));
      logs.event_time(page.rfc3339(i, 1).value_or(0));
    }
    const size_t entries = page.size() + page.skipped();
    if (entries > 0) {  // an empty page keeps the ids of the last one that had events
      if (page_ids.size() > kMaxRecentIds) page_ids.resize(kMaxRecentIds);
      recent_ids = std::move(page_ids);
    }

    logs.more_to_poll =
        siphon::RawPage::to_integer(page.member(1)).value_or(static_cast<int64_t>(entries)) > 0;
    logs.next_cursor =
        siphon::json::object({{"stream_position", next}, {"recent_ids", recent_ids}});
    return logs;
  }

 private:
  // A new access token from the JWT bearer grant.
  siphon::Token fetch_token() {
    const int64_t now_s = ctx().now_ms() / 1000;
    std::string assertion = siphon::auth::rs256_jwt(
        siphon::json::object({{"alg", "RS256"}, {"typ", "JWT"}, {"kid", public_key_id_}}),
        siphon::json::object({{"iss", client_id_},
                              {"sub", enterprise_id_},
                              {"box_sub_type", "enterprise"},
                              {"aud", kTokenUrl},
                              {"jti", siphon::auth::random_token(32)},
                              {"exp", now_s + 30},
                              {"iat", now_s}}),
        private_key_, passphrase_);
    return siphon::oauth2::jwt_bearer(
        ctx(), ctx().vendor_url(kTokenUrl), assertion,
        {{"client_id", client_id_}, {"client_secret", client_secret_}});
  }

  int64_t limit_;
  std::string client_id_, client_secret_, public_key_id_, private_key_, passphrase_, enterprise_id_;
  siphon::TokenCache tokens_{[this] { return fetch_token(); }};
};

SIPHON_PLUGIN("siphon-box", "1.0.0", BoxAdminEvents)
