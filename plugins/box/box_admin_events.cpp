// box_admin_events.cpp - Box enterprise admin events: GET /2.0/events with
// stream_type=admin_logs, as the app's service account, whose token comes from
// a JWT signed with the key pair in the app's config.json.
//
// Cursor: {"stream_position":"<opaque>","recent_ids":["<event_id>",...]}.
// recent_ids hold the event ids of the last page that had events, because Box
// repeats events across pages; an entry whose id is there is not delivered again.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <initializer_list>
#include <siphon/auth_helpers.hpp>
#include <siphon/sdk.hpp>
#include <siphon/time_format.hpp>
#include <unordered_set>
#include <variant>

namespace {

constexpr char kTokenUrl[] = "https://api.box.com/oauth2/token";  // also the JWT's aud
constexpr char kEventsUrl[] = "https://api.box.com/2.0/events";
constexpr int64_t kMaxLimit = 500;
constexpr size_t kMaxRecentIds = 1000;

// {"key":"text" or number, ...}, escaped by RapidJSON.
using Member = std::pair<const char*, std::variant<std::string, int64_t>>;
std::string json_object(std::initializer_list<Member> members) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> writer(sb);
  writer.StartObject();
  for (const auto& [key, value] : members) {
    writer.Key(key);
    if (const auto* text = std::get_if<std::string>(&value))
      writer.String(text->data(), static_cast<rapidjson::SizeType>(text->size()));
    else
      writer.Int64(std::get<int64_t>(value));
  }
  writer.EndObject();
  return {sb.GetString(), sb.GetSize()};
}

// A member of the key file by its dotted path; the error names the path only.
std::string keyfile_member(const rapidjson::Value& root, const std::string& path,
                           bool may_be_empty = false) {
  const rapidjson::Value* value = &root;
  for (size_t start = 0, dot = 0; dot != std::string::npos; start = dot + 1) {
    dot = path.find('.', start);
    std::string name = path.substr(start, dot - start);
    if (!value->IsObject() || !value->HasMember(name))
      throw siphon::Error("keyfile: " + path + " is missing");
    value = &(*value)[name];
  }
  if (!value->IsString() && !value->IsNumber())
    throw siphon::Error("keyfile: " + path + " is not a string");
  std::string text = value->IsString() ? value->GetString() : siphon::to_json(*value);
  if (text.empty() && !may_be_empty) throw siphon::Error("keyfile: " + path + " is empty");
  return text;
}

// "HTTP 403 access_denied_insufficient_permissions: Access denied - ..." from
// a Box error body ({code, message} on the API, {error, error_description} on
// the token endpoint). These bodies carry no secrets.
std::string describe(const siphon::Response& resp) {
  std::string out = "HTTP " + std::to_string(resp.status);
  rapidjson::Document body;
  body.Parse(resp.body.data(), resp.body.size());
  if (body.HasParseError() || !body.IsObject()) return out;
  for (const char* key : {"code", "error"})
    if (body.HasMember(key) && body[key].IsString())
      out += std::string(" ") + body[key].GetString();
  for (const char* key : {"message", "error_description"})
    if (body.HasMember(key) && body[key].IsString())
      out += std::string(": ") + body[key].GetString();
  return out;
}

// Turns a non-2xx reply into the exception the host expects.
void check(const siphon::Response& resp, const std::string& what) {
  if (resp.ok()) return;
  std::string why = what + ": " + describe(resp);
  if (resp.status == 429 || resp.status >= 500) {
    std::string retry_after = resp.header("Retry-After");
    throw siphon::RetryLater(why +
                             (retry_after.empty() ? "" : " (Retry-After " + retry_after + ")"));
  }
  throw siphon::Error(why);
}

}  // namespace

class BoxAdminEvents : public siphon::App {
 public:
  static std::string service() { return "box"; }
  static std::string type() { return "admin_events"; }
  static std::string description() { return "Box enterprise admin events (Events API admin_logs)"; }
  static uint32_t default_interval_seconds() { return 300; }
  static std::string event_id_field() { return "event_id"; }
  static siphon::AuthInfo required_auth_info() {
    return {{"keyfile", "the Box app's config.json (JWT key pair), e.g. ${file:box.json}",
             R"((?s)\s*\{.*\}\s*)", true}};
  }
  static siphon::Options options() {
    return {
        {"base_url",
         "replaces scheme, host and port of the Box API and token URLs (proxy, local tests)", ""},
        {"limit", "events per page, 1 to 500", "500"}};
  }

  // Checks the key file and its private key; no network here.
  explicit BoxAdminEvents(siphon::Context& ctx)
      : App(ctx), limit_(ctx.option_int("limit", kMaxLimit)) {
    if (limit_ < 1 || limit_ > kMaxLimit) throw siphon::Error("option limit: must be 1 to 500");
    const std::string& keyfile = ctx.auth("keyfile");
    rapidjson::Document doc;
    doc.Parse(keyfile.data(), keyfile.size());
    if (doc.HasParseError() || !doc.IsObject())
      throw siphon::Error("keyfile: not a JSON object (expected the Box app's config.json)");
    client_id_ = keyfile_member(doc, "boxAppSettings.clientID");
    client_secret_ = keyfile_member(doc, "boxAppSettings.clientSecret");
    public_key_id_ = keyfile_member(doc, "boxAppSettings.appAuth.publicKeyID");
    private_key_ = keyfile_member(doc, "boxAppSettings.appAuth.privateKey");
    passphrase_ = keyfile_member(doc, "boxAppSettings.appAuth.passphrase", true);
    enterprise_id_ = keyfile_member(doc, "enterpriseID");
    try {
      siphon::auth::check_private_key(private_key_, passphrase_);
    } catch (const std::exception& e) {
      throw siphon::Error(std::string("keyfile: boxAppSettings.appAuth.privateKey: ") + e.what());
    }
  }

  siphon::Logs gather_logs(const siphon::Cursor& cursor) override {
    std::string position;
    std::vector<std::string> recent_ids;
    if (!cursor.empty()) read_cursor(cursor.value, position, recent_ids);

    // Box honours created_after only without a stream_position.
    siphon::Params query{{"stream_type", "admin_logs"}, {"limit", std::to_string(limit_)}};
    if (position.empty())
      query.emplace_back("created_after", siphon::timefmt::rfc3339_offset(cursor.start_time_ms));
    else
      query.emplace_back("stream_position", position);
    rapidjson::Document page = fetch_events(query);

    if (!page.IsObject() || !page.HasMember("entries") || !page["entries"].IsArray())
      throw siphon::Error("GET /2.0/events: the response has no entries array");
    if (!page.HasMember("next_stream_position") ||
        !(page["next_stream_position"].IsString() || page["next_stream_position"].IsNumber()))
      throw siphon::Error("GET /2.0/events: the response has no next_stream_position");
    const auto& next = page["next_stream_position"];
    const auto& entries = page["entries"].GetArray();

    siphon::Logs logs;
    std::unordered_set<std::string> delivered(recent_ids.begin(), recent_ids.end()), on_page;
    std::vector<std::string> page_ids;
    for (const auto& entry : entries) {
      if (!entry.IsObject()) continue;
      auto id = entry.FindMember("event_id");
      if (id != entry.MemberEnd() && id->value.IsString()) {
        if (!on_page.insert(id->value.GetString()).second) {  // twice on this page
          ++logs.duplicates_dropped;
          continue;
        }
        page_ids.emplace_back(id->value.GetString());
        if (delivered.count(page_ids.back())) {  // Box repeats events across pages
          ++logs.duplicates_dropped;
          continue;
        }
      }
      logs.add(entry);
      logs.event_time(created_at_ms(entry));
    }
    if (!entries.Empty()) {  // an empty page keeps the ids of the last one that had events
      if (page_ids.size() > kMaxRecentIds) page_ids.resize(kMaxRecentIds);
      recent_ids = std::move(page_ids);
    }

    int64_t chunk_size = page.HasMember("chunk_size") && page["chunk_size"].IsInt64()
                             ? page["chunk_size"].GetInt64()
                             : static_cast<int64_t>(entries.Size());
    logs.more_to_poll = chunk_size > 0;
    logs.next_cursor =
        write_cursor(next.IsString() ? next.GetString() : siphon::to_json(next), recent_ids);
    return logs;
  }

 private:
  // An event's created_at (RFC 3339 with an offset), or 0 when absent or unreadable.
  static int64_t created_at_ms(const rapidjson::Value& entry) {
    auto at = entry.FindMember("created_at");
    if (at == entry.MemberEnd() || !at->value.IsString()) return 0;
    try {
      return siphon::timefmt::parse_rfc3339(at->value.GetString());
    } catch (const std::exception&) {
      return 0;
    }
  }

  static void read_cursor(const std::string& text, std::string& position,
                          std::vector<std::string>& recent_ids) {
    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("stream_position") ||
        !doc["stream_position"].IsString())
      throw siphon::Error("cursor: not a Box cursor ({\"stream_position\":...}); reset the app");
    position = doc["stream_position"].GetString();
    if (doc.HasMember("recent_ids") && doc["recent_ids"].IsArray())
      for (const auto& id : doc["recent_ids"].GetArray())
        if (id.IsString()) recent_ids.emplace_back(id.GetString());
  }

  static std::string write_cursor(const std::string& position,
                                  const std::vector<std::string>& recent_ids) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> writer(sb);
    writer.StartObject();
    writer.Key("stream_position");
    writer.String(position);
    writer.Key("recent_ids");
    writer.StartArray();
    for (const auto& id : recent_ids) writer.String(id);
    writer.EndArray();
    writer.EndObject();
    return {sb.GetString(), sb.GetSize()};
  }

  // GET /2.0/events; a 401 gets one fresh token and one retry.
  rapidjson::Document fetch_events(const siphon::Params& query) {
    const std::string url = ctx().vendor_url(kEventsUrl);
    siphon::Response resp = ctx().get(url, query, {{"Authorization", "Bearer " + token()}});
    if (resp.status == 401) {
      token_.clear();
      resp = ctx().get(url, query, {{"Authorization", "Bearer " + token()}});
      if (resp.status == 401)
        throw siphon::AuthRejected("GET /2.0/events: HTTP 401 with a fresh token " +
                                   resp.header("WWW-Authenticate"));
    }
    check(resp, "GET /2.0/events");
    return resp.json("GET /2.0/events");
  }

  // A cached access token, or a new one from the JWT bearer grant.
  std::string token() {
    const int64_t now_ms = ctx().now_ms();
    if (!token_.empty() && now_ms < token_expiry_ms_) return token_;
    const int64_t now_s = now_ms / 1000;
    std::string assertion = siphon::auth::rs256_jwt(
        json_object({{"alg", "RS256"}, {"typ", "JWT"}, {"kid", public_key_id_}}),
        json_object({{"iss", client_id_},
                     {"sub", enterprise_id_},
                     {"box_sub_type", "enterprise"},
                     {"aud", kTokenUrl},
                     {"jti", siphon::auth::random_token(32)},
                     {"exp", now_s + 30},
                     {"iat", now_s}}),
        private_key_, passphrase_);
    siphon::Response resp = ctx().post_form(
        ctx().vendor_url(kTokenUrl), {{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
                                      {"client_id", client_id_},
                                      {"client_secret", client_secret_},
                                      {"assertion", assertion}});
    if (resp.status == 400 || resp.status == 401)
      throw siphon::AuthRejected("POST /oauth2/token: " + describe(resp));
    check(resp, "POST /oauth2/token");
    rapidjson::Document body = resp.json("POST /oauth2/token");
    if (!body.IsObject() || !body.HasMember("access_token") || !body["access_token"].IsString())
      throw siphon::Error("POST /oauth2/token: the response has no access_token");
    int64_t expires_in = body.HasMember("expires_in") && body["expires_in"].IsInt64()
                             ? body["expires_in"].GetInt64()
                             : 3600;
    token_ = body["access_token"].GetString();
    token_expiry_ms_ = now_ms + (expires_in - 60) * 1000;  // renew a minute early
    return token_;
  }

  int64_t limit_;
  std::string client_id_, client_secret_, public_key_id_, private_key_, passphrase_, enterprise_id_;
  std::string token_;
  int64_t token_expiry_ms_ = 0;
};

SIPHON_PLUGIN("siphon-box", "1.0.0", BoxAdminEvents)
