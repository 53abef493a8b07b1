#include "poller/app_runner.hpp"

#include <algorithm>
#include <siphon/auth_helpers.hpp>
#include <stdexcept>

#include "plugin/auth_values.hpp"
#include "util/clock.hpp"

namespace siphon {

AppRunner::AppRunner(const AppConfig& app, const AppTypeInfo& type, Sink& sink, StateStore& state,
                     HttpService& http, StopSignal& stop)
    : app_(app),
      type_(type),
      sink_(sink),
      state_(state),
      http_(http),
      stop_(stop),
      records_(app.name, type.type, type.service) {
  batch_.app = app.name;
  batch_.type = type.type;
  batch_.service = type.service;
  batch_.id_field = type.event_id_field;
  inflight_batch_.app = app.name;
  inflight_batch_.type = type.type;
  inflight_batch_.service = type.service;
  inflight_batch_.id_field = type.event_id_field;
}

std::string AppRunner::plugin_name() const {
  return type_.plugin ? type_.plugin->name : type_.type;
}

AppRunner::~AppRunner() {
  if (running_) abandon();
  // A delivery uses this runner's page: it must end first.
  if (inflight_.valid()) inflight_.wait();
}

int64_t AppRunner::interval_seconds() const {
  return app_.interval_seconds.value_or(type_.default_interval_seconds);
}

std::optional<AuthValues> AppRunner::resolve_auth() {
  // The same checks as `siphon check`, on the values read now: a rotated
  // secret that its field's regex refuses is never sent.
  AuthValues auth;
  std::vector<AuthProblem> problems;
  bool ok = resolve_auth_values(app_, type_, auth, problems);
  for (const auto& p : problems) {
    if (p.warning) {
      log_line(LogLevel::kWarn, app_.name, "field " + p.field + ": " + p.problem);
    } else if (error_.empty()) {
      error_ = "field " + p.field + ": " + p.problem + " (nothing was sent)";
    }
  }
  if (!ok) return std::nullopt;
  return auth;
}

void AppRunner::fail(const std::string& why) {
  error_ = redactor_.apply(why);
  log_line(LogLevel::kError, app_.name, "run failed: " + error_);
  if (running_) {
    if (metrics_) {
      metrics_->run_finished("failed", error_, now_ms());
      metrics_->lease_held(false);
    }
    try {
      state_.finish(app_.name, "failed", error_);
    } catch (const std::exception& e) {
      log_line(LogLevel::kError, app_.name, std::string("cannot record the failure: ") + e.what());
    }
  }
  running_ = false;
}

void AppRunner::instance_failed() {
  // Whatever the call brought, the page already in the sink's hands is
  // waited for and, when the sink took it, committed.
  settle();
  fail(instance_->failure());
  instance_lost();
}

void AppRunner::instance_lost() {
  if (!instance_ || instance_->failure().empty()) return;
  if (app_.isolation == AppConfig::Isolation::kInProcess) {
    // The call still runs on a thread nobody can stop; the instance keeps
    // what it needs alive (see ~AppInstance). The app stays off until restart.
    disabled_ = instance_->failure();
    log_line(LogLevel::kError, app_.name,
             "app disabled: not scheduled again until siphon restarts (`isolation: process` "
             "would let the host end the plugin and try again)");
  } else {
    restart_backoff_s_ = restart_backoff_s_ == 0
                             ? 1
                             : std::min<int64_t>(restart_backoff_s_ * 2, kMaxRestartBackoffS);
    restart_after_ms_ = now_ms() + restart_backoff_s_ * 1000;
    log_line(LogLevel::kWarn, app_.name,
             "plugin worker restarts at the next run, not before " +
                 std::to_string(restart_backoff_s_) + "s from now");
  }
  instance_.reset();
  instance_auth_key_.clear();
}

bool AppRunner::begin(std::optional<int64_t> since_ms) {
  error_.clear();
  events_ = 0;
  polls_ = 0;
  sleep_seconds_ = 0;
  newest_event_ms_ = 0;
  if (!disabled_.empty()) {
    error_ = "app disabled until siphon restarts: " + disabled_;
    if (metrics_) metrics_->run_not_started(error_, now_ms());
    return false;
  }
  if (!instance_ && now_ms() < restart_after_ms_) {
    // Not an error of this run: the failure was logged, the wait announced.
    log_line(LogLevel::kDebug, app_.name,
             "run skipped: plugin worker restart waits " +
                 std::to_string((restart_after_ms_ - now_ms() + 999) / 1000) + "s more");
    return false;
  }
  if (state_.held_elsewhere(app_.name)) {
    // A shared state store gave the app to another host: not an error.
    log_line(LogLevel::kDebug, app_.name, "run skipped: another host holds the app's lease");
    if (metrics_) metrics_->held_elsewhere(true);
    return false;
  }
  std::string holder = state_.claim(app_.name, kClaimTtlMs);
  if (!holder.empty()) {
    error_ = "app is already running (held by " + holder + ")";
    return false;
  }
  running_ = true;
  if (metrics_) {
    metrics_->held_elsewhere(false);
    metrics_->lease_held(true);
  }
  auto auth = resolve_auth();
  if (!auth) {
    fail(error_);
    return false;
  }
  // Recreate the instance only when the resolved credentials changed, so
  // tokens survive between runs. A new instance is validated by the plugin
  // (its create) before any request.
  std::string key;
  for (const auto& [k, v] : auth->values) key += k + '\0' + v + '\0';
  redactor_ = auth->redactor;
  // A digest of the service and the resolved credentials: it tells when the
  // instance must be remade and names the credential's request budget.
  std::string credential = auth::hex(auth::sha256(type_.service + '\0' + key));
  if (!instance_ || credential != instance_auth_key_) {
    instance_.reset();
    instance_ = make_plugin_instance(type_, app_, auth->values, &http_, &stop_, redactor_);
    if (after_taken_)
      instance_->poll_on_caller([this] {
        ++polls_;
        if (metrics_) metrics_->poll(SIPHON_ERROR, 0, 0);
        instance_failed();
        after_taken_();
      });
    std::string why = instance_->create(false);
    if (!instance_->failure().empty()) {
      fail(instance_->failure());
      instance_lost();
      return false;
    }
    if (!why.empty()) {
      instance_.reset();
      fail("plugin " + plugin_name() + " refused the app's settings: " + why);
      return false;
    }
    instance_auth_key_ = credential;
  }
  // Apps of one service with the same credentials share one request budget.
  RequestPolicy policy;
  policy.credential = credential;
  policy.requests_per_second = app_.rate_limit;
  deadline_ms_ = now_ms() + app_.run_timeout_seconds * 1000;
  policy.deadline_ms = deadline_ms_;
  policy.metrics = metrics_;
  instance_->set_request_policy(std::move(policy));
  auto st = state_.get(app_.name);
  if (since_ms) {
    cursor_.clear();
    start_ms_ = *since_ms;
  } else if (st && st->cursor) {
    cursor_ = *st->cursor;
    start_ms_ = now_ms() - interval_seconds() * 1000;
  } else {
    cursor_.clear();
    start_ms_ =
        st && st->start_override_ms ? *st->start_override_ms : now_ms() - interval_seconds() * 1000;
  }
  fetch_cursor_ = cursor_;
  log_line(LogLevel::kDebug, app_.name,
           cursor_.empty() ? "run starts at " + rfc3339_ms(start_ms_) : "run resumes from cursor");
  return true;
}

namespace {
// The sink holds the page but its cursor could not be saved.
struct CommitError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
constexpr const char* kNotSaved = "events delivered but the cursor could not be saved: ";
}  // namespace

void AppRunner::deliver_and_commit(const RecordBatch& batch, const Page& page) {
  sink_.deliver(batch, &stop_);
  try {
    state_.commit(app_.name, page.cursor, page.events, kClaimTtlMs);
  } catch (const std::exception& e) {
    throw CommitError(e.what());
  }
}

bool AppRunner::conclude(const std::function<void()>& delivery, const Page& page) {
  try {
    delivery();
  } catch (const CommitError& e) {
    fail(std::string(kNotSaved) + e.what());
    return false;
  } catch (const std::exception& e) {
    if (metrics_) metrics_->sink_error();
    fail(e.what());
    return false;
  }
  cursor_ = page.cursor;
  events_ += page.events;
  newest_event_ms_ = std::max(newest_event_ms_, page.newest_event_ms);
  if (metrics_) metrics_->delivered(page.events, page.newest_event_ms);
  return true;
}

bool AppRunner::settle() {
  if (!inflight_.valid()) return true;
  std::future<void> done = std::move(inflight_);
  return conclude([&] { done.get(); }, inflight_page_);
}

AppRunner::Step AppRunner::step() {
  if (!running_) return Step::kFailed;
  PollOutcome out = instance_->poll(fetch_cursor_, start_ms_, polls_);
  ++polls_;
  if (metrics_)
    metrics_->poll(instance_->failure().empty() ? out.status : SIPHON_ERROR,
                   out.status == SIPHON_OK ? static_cast<int64_t>(out.events.size()) : 0,
                   out.status == SIPHON_OK ? out.duplicates_dropped : 0);
  if (!instance_->failure().empty()) {
    instance_failed();
    return Step::kFailed;
  }
  if (out.status != SIPHON_OK) {
    settle();
    // Refused credentials: the next run starts from a fresh instance (new token).
    if (out.status == SIPHON_AUTH_REJECTED) instance_auth_key_.clear();
    std::string kind = out.status == SIPHON_AUTH_REJECTED ? "credentials refused: "
                       : out.status == SIPHON_RETRY_LATER
                           ? "vendor unavailable, retry at next run: "
                           : "";
    fail("plugin " + plugin_name() + ": " + kind + out.error);
    return Step::kFailed;
  }
  std::string collected_at = rfc3339_ms(now_ms());
  batch_.clear();
  for (size_t i = 0; i < out.events.size(); ++i) {
    std::string why;
    if (static_cast<int64_t>(out.events[i].size()) > app_.max_event_bytes) {
      why = "event of " + std::to_string(out.events[i].size()) +
            " bytes is over max_event_bytes (" + std::to_string(app_.max_event_bytes) + ")";
    } else if (records_.append(batch_, out.events[i], collected_at, why)) {
      continue;
    }
    settle();
    fail("plugin " + plugin_name() + " returned a bad event (#" + std::to_string(i) +
         " of the page; nothing of the page delivered, cursor kept): " + why);
    return Step::kFailed;
  }
  Page page{out.next_cursor.empty() ? fetch_cursor_ : out.next_cursor,
            static_cast<int64_t>(out.events.size()), out.newest_event_time_ms};
  // In order: the previous page is in the sink and committed before this one goes.
  if (!settle()) return Step::kFailed;
  bool timed_out = out.has_more && now_ms() >= deadline_ms_;
  bool more = out.has_more && !timed_out && !stop_.requested();
  if (more && deliveries_ != nullptr && page.events > 0 && sink_.slow_delivery()) {
    std::swap(batch_, inflight_batch_);
    inflight_page_ = std::move(page);
    fetch_cursor_ = inflight_page_.cursor;
    inflight_ =
        deliveries_->submit([this] { deliver_and_commit(inflight_batch_, inflight_page_); });
  } else {
    if (!conclude([&] { deliver_and_commit(batch_, page); }, page)) return Step::kFailed;
    fetch_cursor_ = cursor_;
  }
  if (timed_out) {
    log_line(LogLevel::kWarn, app_.name,
             "run_timeout reached with more to poll; the next run continues from the cursor");
  } else if (more) {
    sleep_seconds_ = instance_->sleep_seconds(polls_);
    if (!instance_->failure().empty()) {
      instance_failed();
      return Step::kFailed;
    }
    return Step::kMore;
  }
  restart_backoff_s_ = 0;
  std::string status = out.has_more ? "partial" : "succeeded";
  state_.finish(app_.name, status, "");
  running_ = false;
  if (metrics_) {
    metrics_->run_finished(status, "", now_ms());
    metrics_->lease_held(false);
  }
  // The newest event time the plugin reported: how far behind the vendor the app is.
  log_line(LogLevel::kInfo, app_.name,
           "run " + status + ": " + std::to_string(events_) + " events in " +
               std::to_string(polls_) + " polls" +
               (newest_event_ms_ > 0 ? ", newest event " + rfc3339_ms(newest_event_ms_) : ""));
  return Step::kDone;
}

void AppRunner::abandon() {
  if (!running_) return;
  // The page in the sink's hands is committed once the sink holds it.
  if (!settle()) return;
  try {
    state_.finish(app_.name, "partial", "");
  } catch (const std::exception& e) {
    log_line(LogLevel::kError, app_.name, e.what());
  }
  running_ = false;
  if (metrics_) {
    metrics_->run_finished("partial", "", now_ms());
    metrics_->lease_held(false);
  }
  log_line(LogLevel::kInfo, app_.name,
           "run stopped with more to poll: " + std::to_string(events_) + " events in " +
               std::to_string(polls_) + " polls");
}

}  // namespace siphon
