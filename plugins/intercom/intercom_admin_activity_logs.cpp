// intercom_admin_activity_logs.cpp - Intercom admin activity logs: GET
// /admins/activity_logs with a created_at_after/created_at_before window,
// paged through pages.next, with the workspace's access token.
//
// Each run reads one window up to now minus delay_seconds (siphon::WindowCursor:
// the order of a window is not documented). The cursor keeps its format:
// {"after":<unix s>,"after_ids":[..],"before":<unix s>,"next":"<url>",
//  "page":N,"starting_after":"..","newest":<unix s>,"newest_ids":[..]}.
#include <algorithm>
#include <cctype>
#include <siphon/error_response.hpp>
#include <siphon/json.hpp>
#include <siphon/paging.hpp>
#include <siphon/window_cursor.hpp>

namespace {

constexpr char kPath[] = "/admins/activity_logs";
const std::string kWhere = std::string("GET ") + kPath;

siphon::WindowFormat cursor_format() {
  siphon::WindowFormat f;
  f.app_type = "intercom_admin_activity_logs";
  f.noun = "activities";
  return f;
}

}  // namespace

class IntercomAdminActivityLogs : public siphon::App {
 public:
  static std::string service() { return "intercom"; }
  static std::string type() { return "admin_activity_logs"; }
  static std::string description() { return "Intercom admin activity logs"; }
  static siphon::AuthInfo required_auth_info() {
    return {{"token", "access token of the workspace's Intercom app (needs read_admins)",
             R"(^dG9r([0-9A-Za-z+\/=]*)$)", true}};
  }
  static siphon::Options options() {
    return {
        {"region", "workspace region: us (api.intercom.io), eu or au", "us"},
        {"intercom_version",
         "Intercom-Version header to send (e.g. 2.11); unset: the app's default version", ""},
        {"per_page", "activities per page, 1 to 250 (API 2.17 and later); unset: not sent", ""},
        {"delay_seconds",
         "read activities up to now minus this, so that late ones are not passed by", "60"},
        {"rate_limit_max_wait_seconds", "no longer used (the host waits out X-RateLimit-*)", ""}};
  }

  explicit IntercomAdminActivityLogs(siphon::Context& ctx)
      : App(ctx),
        delay_s_(ctx.option_int("delay_seconds", 60, 0, 86400)),
        per_page_(ctx.option("per_page").empty() ? 0 : ctx.option_int("per_page", 0, 1, 250)),
        version_(ctx.option("intercom_version")) {
    if (version_.size() > 16 || !std::all_of(version_.begin(), version_.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '.';
        }))
      throw siphon::Error("option intercom_version: expected a version such as 2.11");
    const std::string region = ctx.option("region", "us");
    if (region != "us" && region != "eu" && region != "au")
      throw siphon::Error("option region: must be us, eu or au");
    api_ = region == "us" ? "https://api.intercom.io" : "https://api." + region + ".intercom.io";
  }

  siphon::Logs gather_logs(const siphon::Cursor& cursor) override {
    siphon::WindowCursor w(cursor_format());
    w.load(cursor, cursor.start_time_ms / 1000);
    siphon::Logs logs;
    if (!w.is_open() && !w.open(ctx().now_ms() / 1000 - delay_s_)) return w.done(logs);

    std::string url = w.page("next");
    if (url.empty()) {
      siphon::Params query{{"created_at_after", std::to_string(w.bound())},
                           {"created_at_before", std::to_string(w.end())}};
      if (per_page_ > 0) query.emplace_back("per_page", std::to_string(per_page_));
      if (w.page_int("page") > 0) query.emplace_back("page", w.page("page"));
      if (!w.page("starting_after").empty())
        query.emplace_back("starting_after", w.page("starting_after"));
      url = ctx().vendor_url(api_ + kPath) + "?" + siphon::encode_params(query);
    }
    siphon::Headers headers{{"Authorization", "Bearer " + ctx().auth("token")},
                            {"Accept", "application/json"}};
    if (!version_.empty()) headers.emplace_back("Intercom-Version", version_);
    siphon::Response resp = ctx().get(url, {}, headers);
    siphon::check_response(resp, kWhere);
    rapidjson::Document page = resp.json(kWhere);

    w.start_page();
    for (const auto& activity :
         siphon::json::get<siphon::json::Array>(page, "activity_logs", kWhere))
      w.take(logs, activity, siphon::json::text(activity, "id"),
             siphon::json::find_integer(activity, "created_at"));

    // pages.next is a URL, or in the "cursor pages" shape {"page":2,"starting_after":".."}.
    const int64_t last_page = w.page_int("page");
    w.clear_page();
    w.set_page("next", siphon::paging::next_link(page, "pages.next", url));
    w.set_page("page", siphon::json::find_integer(page, "pages.next.page").value_or(0));
    w.set_page("starting_after", siphon::json::text(page, "pages.next.starting_after"));
    const int64_t next_page = w.page_int("page");
    if (w.page("starting_after").empty() && next_page > 0 && next_page <= last_page)
      throw siphon::Error(kWhere + ": pages.next repeats the same page");
    if (w.page("next").empty() && next_page == 0 && w.page("starting_after").empty())
      w.close(ctx());
    return w.done(logs);
  }

 private:
  int64_t delay_s_;
  int64_t per_page_;
  std::string version_;
  std::string api_;
};

SIPHON_PLUGIN("siphon-intercom", "1.0.0", IntercomAdminActivityLogs)
