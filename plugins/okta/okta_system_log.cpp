// okta_system_log.cpp - Okta System Log: GET /api/v1/logs with an API token
// (Authorization: SSWS), as a polling query. The first request gives since,
// limit and sortOrder=ASCENDING (no until); after that the rel="next" Link of
// each answer is followed verbatim. That link is the checkpoint: Okta orders a
// polling query by persistence, so an event persisted late (with an older
// published time) still comes after it. A run ends on a page that is not full.
//
// Cursor: {"next":"<url>","published":"<RFC 3339>","seen":[["<uuid>",<ms>],..]}:
// the next link, the newest published delivered (at first, the start time),
// and the uuids delivered while the newest published was within kKeepMs of
// today's (at most kMaxSeen). When Okta refuses the stored link with 400 (an
// expired cursor), the run reads again from since = published - kOverlapMs
// and drops the events whose uuid is in seen.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <regex>
#include <siphon/error_response.hpp>
#include <siphon/json.hpp>
#include <siphon/paging.hpp>
#include <siphon/time_format.hpp>
#include <unordered_set>

namespace {

constexpr char kPath[] = "/api/v1/logs";
const std::string kWhere = std::string("GET ") + kPath;
constexpr char kOrgRegex[] = R"(^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$)";
constexpr int64_t kOverlapMs = 5000;
constexpr int64_t kKeepMs = 60000;
constexpr size_t kMaxSeen = 1000;

struct Seen {
  std::string uuid;
  int64_t mark_ms;  // the newest published delivered when this event was
};

}  // namespace

class OktaSystemLog : public siphon::App {
 public:
  static std::string service() { return "okta"; }
  static std::string type() { return "system_log"; }
  static std::string description() { return "Okta System Log (API /api/v1/logs)"; }
  static std::string event_id_field() { return "uuid"; }
  static siphon::AuthInfo required_auth_info() {
    return {{"api_token", "Okta API token (SSWS) of an admin who may read the System Log",
             "^00[A-Za-z0-9_-]{40}$", true},
            {"org_url", "Okta org URL, e.g. https://acme.okta.com (or give options.org_url)",
             kOrgRegex, false, true}};
  }
  static siphon::Options options() {
    return {{"org_url", "Okta org URL, https://<your Okta domain>, e.g. https://acme.okta.com", ""},
            {"limit", "events per page, 1 to 1000", "1000"}};
  }

  explicit OktaSystemLog(siphon::Context& ctx) : App(ctx), limit_(ctx.option_int("limit", 1000)) {
    if (limit_ < 1 || limit_ > 1000) throw siphon::Error("option limit: must be 1 to 1000");
    if (!ctx.has_auth("api_token")) throw siphon::Error("auth field api_token is not set");
    // The auth field has passed its regex already; the option is checked here.
    const std::string option = ctx.option("org_url"), field = ctx.auth("org_url");
    if (!option.empty() && !field.empty() && option != field)
      throw siphon::Error("option org_url: differs from auth field org_url; give one of them");
    std::string org = option.empty() ? field : option;
    if (org.empty())
      throw siphon::Error("option org_url: not set (the Okta org URL, e.g. https://acme.okta.com)");
    if (!std::regex_match(org, std::regex(kOrgRegex)))
      throw siphon::Error(
          "option org_url: expected https://<your Okta domain>, e.g. "
          "https://acme.okta.com");
    if (org.back() == '/') org.pop_back();
    api_ = ctx.vendor_url(org + kPath);
  }

  siphon::Logs gather_logs(const siphon::Cursor& cursor) override {
    load(cursor);
    std::string url = next_;
    if (!url.empty() && !on_origin(url)) {
      ctx().warn("the saved next link is not on " + api_ + "; reading again by since");
      url.clear();
    }
    siphon::Response resp;
    if (!url.empty()) {
      resp = call(url);
      if (resp.status == 400) {
        ctx().warn("the saved next link was refused (" + siphon::describe_error(resp) +
                   "); reading again by since, leaving out events already delivered");
        url.clear();
      }
    }
    if (url.empty()) {
      const int64_t since = newest_ms_ - (cursor.empty() ? 0 : kOverlapMs);
      url = api_ + "?" +
            siphon::encode_params({{"since", siphon::timefmt::rfc3339(since, true)},
                                   {"limit", std::to_string(limit_)},
                                   {"sortOrder", "ASCENDING"}});
      resp = call(url);
    }
    if (resp.status == 403)
      throw siphon::Error(kWhere + ": " + siphon::describe_error(resp) +
                          " (the API token's admin needs a role that may read the System Log, "
                          "e.g. Read-only Administrator)");
    siphon::check_response(resp, kWhere);
    rapidjson::Document page = resp.json(kWhere);
    if (!page.IsArray()) throw siphon::Error(kWhere + ": the body is not a JSON array of events");

    siphon::Logs logs;
    std::unordered_set<std::string> delivered;
    for (const auto& s : seen_) delivered.insert(s.uuid);
    for (const auto& event : page.GetArray()) {
      const std::string uuid = siphon::json::text(event, "uuid");
      if (!uuid.empty() && !delivered.insert(uuid).second) {
        ++logs.duplicates_dropped;
        continue;
      }
      logs.add(event);
      const int64_t published = siphon::json::find_rfc3339(event, "published").value_or(0);
      logs.event_time(published);
      newest_ms_ = std::max(newest_ms_, published);
      if (!uuid.empty()) seen_.push_back({uuid, newest_ms_});
    }
    const bool full = page.Size() >= static_cast<size_t>(limit_);
    next_ = siphon::paging::link_header(resp, url, !full);  // a short page may link to itself
    logs.more_to_poll = full && !next_.empty();
    logs.next_cursor = save();
    return logs;
  }

 private:
  siphon::Response call(const std::string& url) {
    return ctx().get(
        url, {},
        {{"Authorization", "SSWS " + ctx().auth("api_token")}, {"Accept", "application/json"}});
  }

  bool on_origin(const std::string& url) const {
    try {
      siphon::next_page_url(url, api_);
      return true;
    } catch (const siphon::Error&) {
      return false;
    }
  }

  void load(const siphon::Cursor& cursor) {
    next_.clear();
    seen_.clear();
    newest_ms_ = cursor.start_time_ms;
    if (cursor.empty()) return;
    auto doc = siphon::json::parse(cursor.value);
    auto published = doc ? siphon::json::find_rfc3339(*doc, "published") : std::nullopt;
    if (!published)
      throw siphon::Error("cursor: not an okta_system_log cursor; reset the app's state");
    newest_ms_ = *published;
    next_ = siphon::json::find<std::string>(*doc, "next").value_or("");
    if (auto seen = siphon::json::find<siphon::json::Array>(*doc, "seen"))
      for (const auto& s : *seen)
        if (s.IsArray() && s.Size() == 2 && s[0].IsString() && s[1].IsInt64())
          seen_.push_back({s[0].GetString(), s[1].GetInt64()});
  }

  std::string save() {
    size_t from = 0;
    while (from < seen_.size() && seen_[from].mark_ms < newest_ms_ - kKeepMs) ++from;
    from = std::max(from, seen_.size() > kMaxSeen ? seen_.size() - kMaxSeen : 0);
    rapidjson::StringBuffer seen;
    rapidjson::Writer<rapidjson::StringBuffer> w(seen);
    w.StartArray();
    for (size_t i = from; i < seen_.size(); ++i) {
      w.StartArray();
      w.String(seen_[i].uuid.c_str(), static_cast<rapidjson::SizeType>(seen_[i].uuid.size()));
      w.Int64(seen_[i].mark_ms);
      w.EndArray();
    }
    w.EndArray();
    return siphon::json::object({{"next", next_},
                                 {"published", siphon::timefmt::rfc3339(newest_ms_, true)},
                                 {"seen", siphon::json::Raw{seen.GetString()}}});
  }

  int64_t limit_;
  std::string api_;
  std::string next_;
  int64_t newest_ms_ = 0;
  std::vector<Seen> seen_;
};

SIPHON_PLUGIN("siphon-okta", "1.0.0", OktaSystemLog)
