#include "metrics/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <sstream>

#include "util/clock.hpp"

namespace siphon {
namespace {

using prometheus::Counter;
using prometheus::Gauge;
using prometheus::Histogram;

const char* const kPollResults[] = {"ok", "error", "retry_later", "auth_rejected"};
const char* const kRunStatuses[] = {"succeeded", "partial", "failed"};
const char* const kCodeClasses[] = {"1xx", "2xx", "3xx", "4xx", "5xx", "error"};

// Vendor APIs answer in tens of ms to tens of seconds.
const Histogram::BucketBoundaries kDurationBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                      1,     2.5,  5,     10,   30,  60};

int poll_index(siphon_status status) {
  switch (status) {
    case SIPHON_OK:
      return 0;
    case SIPHON_RETRY_LATER:
      return 2;
    case SIPHON_AUTH_REJECTED:
      return 3;
    default:
      return 1;
  }
}

}  // namespace

void AppMetrics::poll(siphon_status status, int64_t events_received, int64_t duplicates_dropped) {
  polls_[poll_index(status)]->Increment();
  if (events_received > 0) events_received_->Increment(static_cast<double>(events_received));
  if (duplicates_dropped > 0) duplicates_->Increment(static_cast<double>(duplicates_dropped));
}

void AppMetrics::delivered(int64_t events, int64_t newest_event_ms) {
  if (events > 0) events_sent_->Increment(static_cast<double>(events));
  // The lag is measured from the newest event committed so far: a page of
  // older events (a lookback) does not move it back.
  int64_t seen = newest_event_ms_.load();
  while (newest_event_ms > seen && !newest_event_ms_.compare_exchange_weak(seen, newest_event_ms)) {
  }
}

void AppMetrics::sink_error() { sink_errors_->Increment(); }

void AppMetrics::http_request(int status, double seconds) {
  int cls = status >= 100 && status <= 599 ? status / 100 - 1 : 5;
  http_[cls]->Increment();
  http_duration_->Observe(seconds);
}

void AppMetrics::http_retry() { http_retries_->Increment(); }

void AppMetrics::rate_limit_wait(double seconds) {
  if (seconds > 0) rate_limit_wait_->Increment(seconds);
}

void AppMetrics::lease_held(bool held) { lease_held_->Set(held ? 1 : 0); }

void AppMetrics::held_elsewhere(bool elsewhere) { elsewhere_ = elsewhere; }

void AppMetrics::run_finished(const std::string& status, const std::string& error, int64_t now_ms) {
  for (int i = 0; i < 3; ++i)
    if (status == kRunStatuses[i]) runs_[i]->Increment();
  std::lock_guard lock(mu_);
  last_status_ = status;
  last_run_ms_ = now_ms;
  // A partial run (cut off by run_timeout or a stop) delivered and committed
  // what it polled: the app is making progress.
  if (status == "succeeded" || status == "partial") {
    last_success_ms_ = now_ms;
    last_success_->Set(static_cast<double>(now_ms) / 1000.0);
    last_error_.clear();
  } else {
    last_error_ = error;
  }
}

void AppMetrics::run_not_started(const std::string& error, int64_t now_ms) {
  runs_[2]->Increment();
  std::lock_guard lock(mu_);
  last_status_ = "failed";
  last_run_ms_ = now_ms;
  last_error_ = error;
}

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  events_received_ = &prometheus::BuildCounter()
                          .Name("siphon_events_received_total")
                          .Help("Events plugins returned from successful polls.")
                          .Register(r);
  events_sent_ = &prometheus::BuildCounter()
                      .Name("siphon_events_sent_total")
                      .Help("Events the sink holds (cursor committed after them).")
                      .Register(r);
  polls_ = &prometheus::BuildCounter()
                .Name("siphon_polls_total")
                .Help("Plugin polls by result: ok, error, retry_later, auth_rejected.")
                .Register(r);
  runs_ = &prometheus::BuildCounter()
               .Name("siphon_runs_total")
               .Help("Runs ended by status: succeeded, partial, failed.")
               .Register(r);
  http_requests_ = &prometheus::BuildCounter()
                        .Name("siphon_http_requests_total")
                        .Help(
                            "HTTP requests plugins sent (each attempt), by status class; "
                            "code_class=\"error\" when no response arrived.")
                        .Register(r);
  http_duration_ = &prometheus::BuildHistogram()
                        .Name("siphon_http_request_duration_seconds")
                        .Help("Duration of each HTTP attempt, to the end of the body.")
                        .Register(r);
  http_retries_ = &prometheus::BuildCounter()
                       .Name("siphon_http_retries_total")
                       .Help("HTTP attempts repeated after a connection error, 429 or 5xx.")
                       .Register(r);
  rate_limit_wait_ = &prometheus::BuildCounter()
                          .Name("siphon_rate_limit_wait_seconds_total")
                          .Help(
                              "Seconds requests waited for rate limits (rate_limit, "
                              "Retry-After, rate-limit headers).")
                          .Register(r);
  duplicates_ = &prometheus::BuildCounter()
                     .Name("siphon_duplicates_dropped_total")
                     .Help("Events plugins dropped as already delivered (lookback overlap).")
                     .Register(r);
  sink_errors_ = &prometheus::BuildCounter()
                      .Name("siphon_sink_errors_total")
                      .Help("Pages the sink failed to take (the run failed, cursor kept).")
                      .Register(r);
  lag_ = &prometheus::BuildGauge()
              .Name("siphon_app_lag_seconds")
              .Help(
                  "Now minus the time of the newest event the app committed (only for "
                  "plugins that report event times).")
              .Register(r);
  lease_held_ = &prometheus::BuildGauge()
                     .Name("siphon_lease_held")
                     .Help("1 while this process holds the app's claim (a run is in progress).")
                     .Register(r);
  last_success_ = &prometheus::BuildGauge()
                       .Name("siphon_last_success_timestamp_seconds")
                       .Help("Unix time the app's last successful (or partial) run ended.")
                       .Register(r);
  interval_ = &prometheus::BuildGauge()
                   .Name("siphon_app_interval_seconds")
                   .Help("The app's configured interval between runs (for alert thresholds).")
                   .Register(r);
}

Metrics::~Metrics() = default;

AppMetrics& Metrics::app(const std::string& name, const std::string& type, const std::string& sink,
                         int64_t interval_s, int64_t now_ms) {
  std::lock_guard lock(mu_);
  for (auto& a : apps_)
    if (a->app_ == name) return *a;
  auto a = std::unique_ptr<AppMetrics>(new AppMetrics());
  a->app_ = name;
  a->type_ = type;
  a->sink_ = sink;
  a->interval_s_ = interval_s;
  a->registered_ms_ = now_ms;
  const prometheus::Labels base{{"app", name}, {"type", type}};
  auto with = [&](const char* key, const std::string& value) {
    prometheus::Labels l = base;
    l[key] = value;
    return l;
  };
  a->events_received_ = &events_received_->Add(base);
  a->events_sent_ = &events_sent_->Add(with("sink", sink));
  a->sink_errors_ = &sink_errors_->Add(with("sink", sink));
  a->duplicates_ = &duplicates_->Add(base);
  for (int i = 0; i < 4; ++i) a->polls_[i] = &polls_->Add(with("result", kPollResults[i]));
  for (int i = 0; i < 3; ++i) a->runs_[i] = &runs_->Add(with("status", kRunStatuses[i]));
  for (int i = 0; i < 6; ++i)
    a->http_[i] = &http_requests_->Add(with("code_class", kCodeClasses[i]));
  a->http_duration_ = &http_duration_->Add(base, kDurationBuckets);
  a->http_retries_ = &http_retries_->Add(base);
  a->rate_limit_wait_ = &rate_limit_wait_->Add(base);
  a->lease_held_ = &lease_held_->Add(base);
  a->last_success_ = &last_success_->Add(base);
  interval_->Add(base).Set(static_cast<double>(interval_s));
  apps_.push_back(std::move(a));
  return *apps_.back();
}

std::string Metrics::exposition(int64_t now_ms) {
  {
    std::lock_guard lock(mu_);
    for (auto& a : apps_) {
      int64_t newest = a->newest_event_ms_.load();
      if (a->elsewhere_) {  // the holder exports the lag
        if (a->lag_ != nullptr) lag_->Remove(a->lag_);
        a->lag_ = nullptr;
        continue;
      }
      if (newest <= 0) continue;  // the plugin reports no event times (yet)
      if (a->lag_ == nullptr) a->lag_ = &lag_->Add({{"app", a->app_}, {"type", a->type_}});
      a->lag_->Set(static_cast<double>(now_ms - newest) / 1000.0);
    }
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

Health Metrics::health(int64_t now_ms) const {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  std::vector<std::string> failing;
  w.StartObject();
  w.Key("apps");
  w.StartArray();
  {
    std::lock_guard lock(mu_);
    for (const auto& a : apps_) {
      std::lock_guard app_lock(a->mu_);
      const int64_t window_ms = 2 * a->interval_s_ * 1000;
      std::string status, reason;
      if (a->elsewhere_) {
        status = "elsewhere";  // another host of the fleet runs it and reports it
      } else if (a->last_success_ms_ > 0 && now_ms - a->last_success_ms_ <= window_ms) {
        status = "ok";
      } else if (a->last_success_ms_ == 0 && a->last_error_.empty() &&
                 now_ms - a->registered_ms_ <= window_ms) {
        status = "pending";  // no run has ended yet
      } else {
        status = "failing";
        reason = a->last_error_.empty() ? "no successful run in the last 2 intervals (" +
                                              std::to_string(2 * a->interval_s_) + " s)"
                                        : a->last_error_;
        failing.push_back(a->app_);
      }
      w.StartObject();
      w.Key("name");
      w.String(a->app_);
      w.Key("type");
      w.String(a->type_);
      w.Key("status");
      w.String(status);
      w.Key("last_run_status");
      w.String(a->last_status_);
      w.Key("last_success");
      if (a->last_success_ms_ > 0)
        w.String(rfc3339_ms(a->last_success_ms_));
      else
        w.Null();
      w.Key("last_error");
      if (!reason.empty())
        w.String(reason);
      else if (!a->last_error_.empty())
        w.String(a->last_error_);
      else
        w.Null();
      w.EndObject();
    }
  }
  w.EndArray();
  w.Key("failing");
  w.StartArray();
  for (const auto& f : failing) w.String(f);
  w.EndArray();
  w.Key("status");
  w.String(failing.empty() ? "ok" : "failing");
  w.EndObject();
  return Health{failing.empty(), std::string(sb.GetString(), sb.GetSize())};
}

}  // namespace siphon
