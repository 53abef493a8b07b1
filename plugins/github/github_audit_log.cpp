// github_audit_log.cpp - GitHub audit log: GET /orgs/{org}/audit-log (with
// scope enterprise, /enterprises/{enterprise}/audit-log) searched with
// phrase=created:>=A created:<=B and order=asc, paged by the Link header's
// rel="next", with the token of an organization (or enterprise) owner.
//
// Each run reads one window up to now minus delay_seconds (GitHub indexes
// events late) with siphon::WindowCursor in seconds, the search's granularity:
// the next window starts at the second of the newest @timestamp delivered and
// drops the _document_id of every event already delivered in that second.
// The cursor: {"since":<unix s>,"since_ids":[..],"until":<unix s>,
// "next":"<url>","newest":<unix s>,"newest_ids":[..]} (until, next and newest
// only while a window is open).
//
// A saved next link that GitHub refuses (400/422, e.g. an expired cursor) is
// dropped and the window reopened from the newest second delivered, with the
// same deduplication. Rate limits answered with Retry-After or
// x-ratelimit-remaining 0 are the host's to wait out; a secondary limit
// without Retry-After ends the run, to try again at the next one.
#include <siphon/error_response.hpp>
#include <siphon/json.hpp>
#include <siphon/paging.hpp>
#include <siphon/time_format.hpp>
#include <siphon/window_cursor.hpp>

namespace {

siphon::WindowFormat cursor_format() {
  siphon::WindowFormat f;
  f.app_type = "github_audit_log";
  f.lower = "since";
  f.lower_ids = "since_ids";
  f.upper = "until";
  return f;
}

}  // namespace

class GithubAuditLog : public siphon::App {
 public:
  static std::string service() { return "github"; }
  static std::string type() { return "audit_log"; }
  static std::string description() { return "GitHub organization or enterprise audit log"; }
  static siphon::AuthInfo required_auth_info() {
    return {{"token",
             "token of an organization (or enterprise) owner: classic personal access token "
             "(ghp_) or OAuth token (gho_) with read:audit_log, or fine-grained token "
             "(github_pat_) with Administration read",
             R"(^(gh[po]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})$)", true},
            {"org", "organization login (with scope enterprise: the enterprise slug)",
             R"(^(?=.{1,39}$)[A-Za-z0-9]+(-[A-Za-z0-9]+)*$)", false}};
  }
  static siphon::Options options() {
    return {{"scope", "organization (GET /orgs/{org}/audit-log) or enterprise", "organization"},
            {"include", "web, git or all events (git events are kept 7 days)", "web"},
            {"per_page", "events per page, 1 to 100", "100"},
            {"delay_seconds",
             "read events up to now minus this, so that late ones are not passed by", "60"}};
  }

  explicit GithubAuditLog(siphon::Context& ctx)
      : App(ctx),
        include_(ctx.option("include", "web")),
        per_page_(ctx.option_int("per_page", 100)),
        delay_s_(ctx.option_int("delay_seconds", 60)) {
    for (const char* field : {"token", "org"})
      if (!ctx.has_auth(field))
        throw siphon::Error(std::string("auth field ") + field + " is not set");
    const std::string scope = ctx.option("scope", "organization");
    if (scope != "organization" && scope != "enterprise")
      throw siphon::Error("option scope: must be organization or enterprise");
    if (include_ != "web" && include_ != "git" && include_ != "all")
      throw siphon::Error("option include: must be web, git or all");
    if (per_page_ < 1 || per_page_ > 100) throw siphon::Error("option per_page: must be 1 to 100");
    if (delay_s_ < 0 || delay_s_ > 86400)
      throw siphon::Error("option delay_seconds: must be 0 to 86400");
    // base_url keeps its path: GitHub Enterprise Server serves the API under /api/v3.
    api_ = ctx.option("base_url", "https://api.github.com");
    while (!api_.empty() && api_.back() == '/') api_.pop_back();
    path_ = (scope == "enterprise" ? "/enterprises/" : "/orgs/") + ctx.auth("org") + "/audit-log";
    owner_ = (scope == "enterprise" ? "enterprise " : "organization ") + ctx.auth("org");
  }

  siphon::Logs gather_logs(const siphon::Cursor& cursor) override {
    siphon::WindowCursor w(cursor_format());
    w.load(cursor, cursor.start_time_ms / 1000);
    siphon::Logs logs;
    if (!w.is_open() && !w.open(ctx().now_ms() / 1000 - delay_s_)) return w.done(logs);

    std::string url = w.page("next");
    siphon::Response resp;
    if (!url.empty()) {
      resp = call(url);
      if (resp.status == 400 || resp.status == 422) {
        ctx().warn("GitHub refused the saved next link (" + siphon::describe_error(resp) +
                   "); reading on from the newest second delivered");
        w.close(ctx());
        if (!w.open(ctx().now_ms() / 1000 - delay_s_)) return w.done(logs);
        url.clear();
      }
    }
    if (url.empty()) {
      const std::string phrase = "created:>=" + siphon::timefmt::rfc3339(w.bound() * 1000) +
                                 " created:<=" + siphon::timefmt::rfc3339(w.end() * 1000);
      url = api_ + path_ + "?" +
            siphon::encode_params({{"phrase", phrase},
                                   {"order", "asc"},
                                   {"per_page", std::to_string(per_page_)},
                                   {"include", include_}});
      resp = call(url);
    }
    check(resp);
    rapidjson::Document page = resp.json(where());
    if (!page.IsArray()) throw siphon::Error(where() + ": the reply is not a JSON array");

    w.start_page();
    for (const auto& event : page.GetArray()) {
      const auto ms = siphon::json::find_integer(event, "@timestamp");
      const std::optional<int64_t> second = ms ? std::optional<int64_t>(*ms / 1000) : std::nullopt;
      if (w.take(logs, event, siphon::json::text(event, "_document_id"), second) && ms)
        logs.event_time(*ms);
    }
    w.set_page("next", siphon::paging::link_header(resp, url));
    if (w.page("next").empty()) w.close(ctx());
    return w.done(logs);
  }

 private:
  siphon::Response call(const std::string& url) {
    return ctx().get(url, {},
                     {{"Authorization", "Bearer " + ctx().auth("token")},
                      {"Accept", "application/vnd.github+json"},
                      {"X-GitHub-Api-Version", "2022-11-28"}});
  }

  std::string where() const { return "GET " + path_; }

  void check(const siphon::Response& resp) {
    if (resp.ok()) return;
    const std::string why = where() + ": " + siphon::describe_error(resp);
    if (resp.status == 404)
      throw siphon::Error(why + " (the " + owner_ +
                          " does not exist or the token's user is not an owner of it; GitHub "
                          "does not say which)");
    if ((resp.status == 403 || resp.status == 429) &&
        resp.body.find("rate limit") != std::string::npos)
      throw siphon::RetryLater(why + " (GitHub's rate limit; the next run tries again)");
    siphon::check_response(resp, where(), {{401}, "(the token is wrong, expired or revoked)"});
  }

  std::string include_;
  int64_t per_page_;
  int64_t delay_s_;
  std::string api_, path_, owner_;
};

SIPHON_PLUGIN("siphon-github", "1.0.0", GithubAuditLog)
