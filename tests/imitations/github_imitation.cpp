#include "github_imitation.hpp"

#include <Poco/String.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <siphon/auth_helpers.hpp>
#include <siphon/sdk.hpp>
#include <siphon/time_format.hpp>

namespace siphon::imitation {
namespace {

const char kApiVersion[] = "2022-11-28";
const char kOrgDocs[] =
    "https://docs.github.com/rest/orgs/orgs#get-the-audit-log-for-an-organization";
const char kEnterpriseDocs[] =
    "https://docs.github.com/rest/enterprise-admin/audit-log#get-the-audit-log-for-an-enterprise";
const char kRateLimitDocs[] = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api";
const char kNoUserAgent[] =
    "Request forbidden by administrative rules. Please make sure your request has a User-Agent "
    "header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-"
    "required). Check https://developer.github.com for other possible causes.\n";

void error(Reply& reply, int status, const std::string& message, const std::string& docs) {
  reply.status = status;
  reply.body = R"({"message":")" + json_escape(message) + R"(","documentation_url":")" + docs +
               R"(","status":")" + std::to_string(status) + "\"}";
}

bool parse_int(const std::string& text, int64_t& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
}

// The created: and other qualifiers of a phrase. Times are compared at second
// granularity (the search index's), on floor(@timestamp / 1000).
struct Filter {
  int64_t from_s = std::numeric_limits<int64_t>::min();
  int64_t to_s = std::numeric_limits<int64_t>::max();
  bool has_created = false;
  std::vector<std::string> actions, actors;
};

// A date (YYYY-MM-DD: its first or, with `upper`, its last second) or a
// date-time; false when it is neither.
bool parse_time(const std::string& text, bool upper, int64_t& out_s) {
  try {
    if (text.size() == 10) {
      out_s = timefmt::parse_rfc3339(text + "T00:00:00Z") / 1000 + (upper ? 86399 : 0);
      return true;
    }
    const int64_t ms = timefmt::parse_rfc3339(text);
    out_s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

bool parse_created(const std::string& v, Filter& f) {
  int64_t from = f.from_s, to = f.to_s, t = 0;
  auto range = v.find("..");
  if (range != std::string::npos) {
    const std::string a = v.substr(0, range), b = v.substr(range + 2);
    if (a != "*" && !parse_time(a, false, from)) return false;
    if (b != "*" && !parse_time(b, true, to)) return false;
  } else if (v.rfind(">=", 0) == 0) {
    if (!parse_time(v.substr(2), false, from)) return false;
  } else if (v.rfind("<=", 0) == 0) {
    if (!parse_time(v.substr(2), true, to)) return false;
  } else if (v.rfind(">", 0) == 0) {
    if (!parse_time(v.substr(1), true, t)) return false;
    from = t + 1;
  } else if (v.rfind("<", 0) == 0) {
    if (!parse_time(v.substr(1), false, t)) return false;
    to = t - 1;
  } else {
    if (!parse_time(v, false, from) || !parse_time(v, true, to)) return false;
  }
  f.from_s = std::max(f.from_s, from);
  f.to_s = std::min(f.to_s, to);
  f.has_created = true;
  return true;
}

// Returns "" or the term it could not read.
std::string parse_phrase(const std::string& phrase, Filter& f) {
  size_t pos = 0;
  while (pos < phrase.size()) {
    if (phrase[pos] == ' ') {
      ++pos;
      continue;
    }
    size_t end = phrase.find(' ', pos);
    const std::string term = phrase.substr(pos, end == std::string::npos ? end : end - pos);
    pos = end == std::string::npos ? phrase.size() : end;
    auto colon = term.find(':');
    const std::string key = colon == std::string::npos ? "" : term.substr(0, colon);
    const std::string value = colon == std::string::npos ? "" : term.substr(colon + 1);
    if (key == "created" && parse_created(value, f)) continue;
    if (key == "action" && !value.empty()) {
      f.actions.push_back(value);
      continue;
    }
    if (key == "actor" && !value.empty()) {
      f.actors.push_back(value);
      continue;
    }
    return term;
  }
  return "";
}

bool action_matches(const std::string& action, const std::vector<std::string>& wanted) {
  if (wanted.empty()) return true;
  for (const auto& w : wanted)
    if (action == w || (w.find('.') == std::string::npos && action.rfind(w + ".", 0) == 0))
      return true;
  return false;
}

std::string actor_of(uint64_t serial) {
  static const char* kActors[] = {"ada-admin", "ci-bot", "jdoe", "mona"};
  return kActors[serial % 4];
}

}  // namespace

GithubImitation::GithubImitation(std::string token, std::string org) : org_(std::move(org)) {
  tokens_[std::move(token)] = true;
}

GithubImitation::~GithubImitation() { stop(); }

std::string GithubImitation::make_token() { return "ghp_" + auth::random_token(36); }

std::string GithubImitation::make_fine_grained_token() {
  return "github_pat_" + auth::random_token(22) + "_" + auth::random_token(59);
}

void GithubImitation::add_token(const std::string& token, bool owner) {
  std::lock_guard lock(mu_);
  tokens_[token] = owner;
}

void GithubImitation::revoke_token(const std::string& token) {
  std::lock_guard lock(mu_);
  tokens_.erase(token);
}

void GithubImitation::set_enterprise(const std::string& slug) {
  std::lock_guard lock(mu_);
  enterprise_ = slug;
}

void GithubImitation::set_path_prefix(const std::string& prefix) {
  std::lock_guard lock(mu_);
  prefix_ = prefix;
}

void GithubImitation::add_locked(int64_t timestamp_ms, const std::string& action, bool git) {
  static const char* kWeb[] = {"org.add_member", "repo.create", "repo.access", "team.add_member",
                               "org.update_member"};
  const uint64_t serial = ++serial_;
  std::string a = action;
  if (a.empty()) a = git ? (serial % 2 ? "git.clone" : "git.push") : kWeb[serial % 5];
  events_.push_back({auth::random_token(22), timestamp_ms, a, git, serial});
}

std::string GithubImitation::add_event(int64_t timestamp_ms, const std::string& action, bool git) {
  std::lock_guard lock(mu_);
  add_locked(timestamp_ms, action, git);
  return events_.back().id;
}

void GithubImitation::add_events(int n, int64_t start_ms, int64_t step_ms) {
  std::lock_guard lock(mu_);
  for (int i = 0; i < n; ++i) add_locked(start_ms + i * step_ms, "", false);
}

void GithubImitation::add_git_events(int n, int64_t start_ms, int64_t step_ms) {
  std::lock_guard lock(mu_);
  for (int i = 0; i < n; ++i) add_locked(start_ms + i * step_ms, "", true);
}

size_t GithubImitation::event_count() const {
  std::lock_guard lock(mu_);
  return events_.size();
}

void GithubImitation::set_git_retention_ms(int64_t ms) {
  std::lock_guard lock(mu_);
  git_retention_ms_ = ms;
}

void GithubImitation::set_cursor_lifetime_ms(int64_t ms) {
  std::lock_guard lock(mu_);
  cursor_lifetime_ms_ = ms;
}

int64_t GithubImitation::refused_cursors() const {
  std::lock_guard lock(mu_);
  return refused_cursors_;
}

void GithubImitation::set_rate_limit(int limit, int64_t window_s) {
  std::lock_guard lock(mu_);
  limit_ = limit;
  limit_window_s_ = std::max<int64_t>(window_s, 1);
  window_reset_s_ = 0;
  used_ = 0;
}

void GithubImitation::exhaust_rate_limit(int64_t reset_in_s, int status) {
  std::lock_guard lock(mu_);
  window_reset_s_ = now_ms() / 1000 + reset_in_s;
  used_ = limit_;
  primary_status_ = status;
}

int64_t GithubImitation::rate_limited_calls() const {
  std::lock_guard lock(mu_);
  return rate_limited_;
}

void GithubImitation::secondary_limit(int count, int status, const std::string& retry_after) {
  std::lock_guard lock(mu_);
  secondary_count_ = count;
  secondary_status_ = status;
  secondary_retry_after_ = retry_after;
}

void GithubImitation::fail_pages_after(int pages_served, const Fault& fault) {
  std::lock_guard lock(mu_);
  page_faults_.arm(pages_served, fault);
}

std::vector<Request> GithubImitation::audit_log_requests() const {
  std::lock_guard lock(mu_);
  return log_;
}

// Shaped like github.md's sample: member, repository and git events.
std::string GithubImitation::event_json(const Event& e) const {
  const std::string ts = std::to_string(e.timestamp_ms);
  const std::string actor = actor_of(e.serial);
  std::string out = R"({"@timestamp":)" + ts + R"(,"created_at":)" + ts + R"(,"_document_id":")" +
                    e.id + R"(","action":")" + json_escape(e.action) + R"(","actor":")" + actor +
                    R"(","actor_id":)" + std::to_string(1000001 + e.serial % 4) +
                    R"(,"actor_location":{"country_code":")" + (e.serial % 2 ? "US" : "DE") +
                    R"("},"org":")" + json_escape(org_) + R"(","org_id":)" + std::to_string(kOrgId);
  if (!enterprise_.empty()) out += R"(,"business":")" + json_escape(enterprise_) + R"(")";
  if (e.git)
    return out + R"(,"repo":")" + json_escape(org_) + R"(/payments","repository":")" +
           json_escape(org_) +
           R"(/payments","repository_public":false,"transport_protocol_name":"http",)"
           R"("transport_protocol":1,"programmatic_access_type":"Personal access token"})";
  std::string op = "modify";
  if (e.action.find("add") != std::string::npos || e.action.find("create") != std::string::npos)
    op = "create";
  else if (e.action.find("access") != std::string::npos)
    op = "access";
  return out + R"(,"operation_type":")" + op + R"(","user":"user)" + std::to_string(e.serial) +
         R"(","user_id":)" + std::to_string(2000000 + e.serial) +
         R"x(,"user_agent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4)","request_id":"C0DE:)x" +
         std::to_string(e.serial) + R"(:6632F0AB"})";
}

void GithubImitation::rate_limit_headers(Reply& reply, int64_t now_s) {
  reply.headers.emplace_back("x-ratelimit-limit", std::to_string(limit_));
  reply.headers.emplace_back("x-ratelimit-remaining", std::to_string(std::max(0, limit_ - used_)));
  reply.headers.emplace_back("x-ratelimit-used", std::to_string(std::min(used_, limit_)));
  reply.headers.emplace_back("x-ratelimit-reset", std::to_string(std::max(window_reset_s_, now_s)));
  reply.headers.emplace_back("x-ratelimit-resource", "audit_log");
}

void GithubImitation::handle(const Request& request, Reply& reply) {
  std::unique_lock lock(mu_);
  log_.push_back(request);
  if (request.header("user-agent").empty()) {
    reply.status = 403;
    reply.content_type = "text/plain; charset=utf-8";
    reply.body = kNoUserAgent;
    return;
  }
  const std::string authz = request.header("authorization");
  auto space = authz.find(' ');
  const std::string scheme = authz.substr(0, space);
  if (authz.empty() || space == std::string::npos ||
      (Poco::icompare(scheme, "Bearer") != 0 && Poco::icompare(scheme, "token") != 0))
    return error(reply, 401, "Requires authentication", "https://docs.github.com/rest");
  auto token = tokens_.find(Poco::trim(authz.substr(space + 1)));
  if (token == tokens_.end())
    return error(reply, 401, "Bad credentials", "https://docs.github.com/rest");
  const std::string version = request.header("x-github-api-version");
  if (!version.empty() && version != kApiVersion)
    return error(reply, 400, "API version '" + version + "' is not supported.",
                 "https://docs.github.com/rest/about-the-rest-api/api-versions");

  const int64_t now_s = now_ms() / 1000;
  if (now_s >= window_reset_s_) {
    window_reset_s_ = now_s + limit_window_s_;
    used_ = 0;
  }
  ++used_;
  rate_limit_headers(reply, now_s);
  if (used_ > limit_) {
    ++rate_limited_;
    return error(reply, primary_status_, "API rate limit exceeded for user ID 1000001.",
                 kRateLimitDocs);
  }

  std::string path = request.path;
  if (!prefix_.empty() && path.rfind(prefix_ + "/", 0) != 0)
    return error(reply, 404, "Not Found", "https://docs.github.com/rest");
  path = path.substr(prefix_.size());
  const std::string org_path = "/orgs/" + Poco::toLower(org_) + "/audit-log";
  const std::string id_path = "/organizations/" + std::to_string(kOrgId) + "/audit-log";
  const std::string ent_path = "/enterprises/" + enterprise_ + "/audit-log";
  const bool enterprise = !enterprise_.empty() && path == ent_path;
  const char* docs = enterprise ? kEnterpriseDocs : kOrgDocs;
  if (request.method != "GET" ||
      !(Poco::toLower(path) == org_path || path == id_path || enterprise) || !token->second)
    return error(reply, 404, "Not Found", docs);

  if (secondary_count_ > 0) {
    --secondary_count_;
    if (!secondary_retry_after_.empty())
      reply.headers.emplace_back("retry-after", secondary_retry_after_);
    return error(reply, secondary_status_,
                 "You have exceeded a secondary rate limit. Please wait a few minutes before you "
                 "try again. If you reach out to GitHub Support for help, please include the "
                 "request ID C0DE:1A2B:3C4D5E:6F7A8B:6632F0AB.",
                 "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-"
                 "secondary-rate-limits");
  }
  if (page_faults_.strike(lock, reply)) return;
  search(request, prefix_ + (enterprise ? ent_path : id_path), reply);
  if (reply.status == 200) page_faults_.served();
}

// Answers one search; called with mu_ held.
void GithubImitation::search(const Request& request, const std::string& audit_path, Reply& reply) {
  const char* docs =
      audit_path.find("/enterprises/") != std::string::npos ? kEnterpriseDocs : kOrgDocs;
  const std::string include = request.param("include").empty() ? "web" : request.param("include");
  if (include != "web" && include != "git" && include != "all")
    return error(reply, 422, "include must be one of: web, git, all.", docs);
  const std::string order = request.param("order").empty() ? "desc" : request.param("order");
  if (order != "asc" && order != "desc")
    return error(reply, 422, "order must be one of: asc, desc.", docs);
  int64_t per_page = 30, page = 0;
  if (!parse_int(request.param("per_page"), per_page) || per_page < 1) per_page = 30;
  per_page = std::min<int64_t>(per_page, 100);
  Filter filter;
  const std::string bad = parse_phrase(request.param("phrase"), filter);
  if (!bad.empty()) return error(reply, 422, "Invalid search phrase near '" + bad + "'.", docs);

  // Cursors: base64 of "<@timestamp>|<_document_id>|<issued ms>".
  const int64_t now = now_ms();
  auto key = [](const Event* e) { return std::make_pair(e->timestamp_ms, e->id); };
  std::pair<int64_t, std::string> after, before;
  bool has_after = false, has_before = false;
  for (const char* name : {"after", "before"}) {
    const std::string value = request.param(name);
    if (value.empty()) continue;
    std::string plain;
    try {
      plain = auth::base64_decode(value);
    } catch (const std::exception&) {
    }
    auto bar1 = plain.find('|'), bar2 = plain.rfind('|');
    int64_t ts = 0, issued = 0;
    if (bar1 == std::string::npos || bar2 == bar1 || !parse_int(plain.substr(0, bar1), ts) ||
        !parse_int(plain.substr(bar2 + 1), issued) ||
        (cursor_lifetime_ms_ > 0 && now - issued > cursor_lifetime_ms_)) {
      ++refused_cursors_;
      return error(reply, 422, "The cursor is invalid or has expired.", docs);
    }
    (std::string(name) == "after" ? after : before) = {ts, plain.substr(bar1 + 1, bar2 - bar1 - 1)};
    (std::string(name) == "after" ? has_after : has_before) = true;
  }
  if (!has_after && !has_before && request.has_param("page") &&
      (!parse_int(request.param("page"), page) || page < 1))
    page = 1;

  std::vector<const Event*> hits;
  for (const auto& e : events_) {
    if ((e.git && include == "web") || (!e.git && include == "git")) continue;
    if (e.git && e.timestamp_ms < now - git_retention_ms_) continue;
    if (!filter.has_created && e.timestamp_ms < now - 90 * kDayMs) continue;
    const int64_t s = e.timestamp_ms >= 0 ? e.timestamp_ms / 1000 : (e.timestamp_ms - 999) / 1000;
    if (s < filter.from_s || s > filter.to_s) continue;
    if (!action_matches(e.action, filter.actions)) continue;
    if (!filter.actors.empty() && std::find(filter.actors.begin(), filter.actors.end(),
                                            actor_of(e.serial)) == filter.actors.end())
      continue;
    hits.push_back(&e);
  }
  const bool asc = order == "asc";
  auto in_order = [&](const std::pair<int64_t, std::string>& a,
                      const std::pair<int64_t, std::string>& b) { return asc ? a < b : b < a; };
  std::sort(hits.begin(), hits.end(),
            [&](const Event* a, const Event* b) { return in_order(key(a), key(b)); });
  size_t begin = 0, end = hits.size();
  if (has_after)
    begin =
        static_cast<size_t>(std::find_if(hits.begin(), hits.end(),
                                         [&](const Event* e) { return in_order(after, key(e)); }) -
                            hits.begin());
  if (has_before)
    end = static_cast<size_t>(
        std::find_if(hits.begin(), hits.end(),
                     [&](const Event* e) { return !in_order(key(e), before); }) -
        hits.begin());
  if (page > 0) begin = static_cast<size_t>((page - 1) * per_page);
  begin = std::min(begin, end);
  if (has_before && !has_after) begin = end > static_cast<size_t>(per_page) ? end - per_page : 0;
  const size_t stop = std::min(end, begin + static_cast<size_t>(per_page));

  reply.body = "[";
  for (size_t i = begin; i < stop; ++i)
    reply.body += (i == begin ? "" : ",") + event_json(*hits[i]);
  reply.body += "]";

  // Links keep the request's other parameters, in their order.
  std::string base = "http://" + request.header("host") + audit_path + "?";
  for (const auto& [k, v] : request.params)
    if (k != "after" && k != "before" && k != "page")
      base += url_encode(k) + "=" + url_encode(v) + "&";
  auto cursor = [&](const Event* e) {
    return url_encode(auth::base64_encode(std::to_string(e->timestamp_ms) + "|" + e->id + "|" +
                                          std::to_string(now)));
  };
  std::vector<std::string> links;
  if (begin > 0 && stop > begin)
    links.push_back("<" + base + "after=&before=" + cursor(hits[begin]) + ">; rel=\"prev\"");
  if (has_after || has_before || page > 0)
    links.push_back("<" + base.substr(0, base.size() - 1) + ">; rel=\"first\"");
  if (stop < hits.size() && stop > begin)
    links.push_back("<" + base +
                    (page > 0 ? "page=" + std::to_string(page + 1)
                              : "after=" + cursor(hits[stop - 1]) + "&before=") +
                    ">; rel=\"next\"");
  std::string link;
  for (const auto& l : links) link += (link.empty() ? "" : ", ") + l;
  if (!link.empty()) reply.headers.emplace_back("Link", link);
}

}  // namespace siphon::imitation
