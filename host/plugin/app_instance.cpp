#include "plugin/app_instance.hpp"

#include <Poco/Runnable.h>
#include <Poco/ThreadPool.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>

#include "config/duration.hpp"
#include "plugin/call_watch.hpp"
#include "plugin/isolated_instance.hpp"
#include "util/clock.hpp"

namespace siphon {
namespace {

// One plugin call on a pool thread; it deletes itself when the call returns
// (an abandoned call never does, and keeps what it needs alive).
class CallJob : public Poco::Runnable {
 public:
  explicit CallJob(std::function<void()> fn) : fn_(std::move(fn)) {}
  void run() override {
    fn_();
    delete this;
  }

 private:
  std::function<void()> fn_;
};

// The plugin's reason for the instance's last failed call (not redacted).
std::string last_error_of(const siphon_app_type* c, siphon_instance* inst) {
  const char* e = inst ? c->last_error(inst) : nullptr;
  return e && *e ? e : "no reason given";
}

// The threads bounded plugin calls run on: an idle one is reused, a new one
// made when all are busy (a call that never returns keeps its thread), and
// threads idle for a minute end. Never destroyed: at exit a thread may still
// be inside an abandoned call.
Poco::ThreadPool& call_threads() {
  static Poco::ThreadPool* pool = new Poco::ThreadPool("plugin-call", 1, 1 << 16, 60);
  return *pool;
}

}  // namespace

// The state the plugin's host callbacks reach through its siphon_host handle.
struct AppInstance::Host {
  siphon_host_api api{};
  std::string app_name;
  HttpService* http = nullptr;
  StopSignal* stop = nullptr;
  Redactor redactor;
  HostForward* forward = nullptr;
  RequestPolicy policy;
  HttpResponse last_response;
  std::vector<siphon_pair> last_headers;
  // Set when a call passed its deadline: the host may be shutting down while
  // the plugin still runs, so its callbacks no longer reach host services.
  std::atomic<bool> abandoned{false};
};

// One plugin call's inputs and outputs, shared with the thread making it so
// that a call that outlives its deadline still writes to live memory.
struct AppInstance::Call {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::string thrown;  // what escaped the plugin, if anything
  siphon_status status = SIPHON_ERROR;
  // create
  std::vector<siphon_pair> auth, options;
  siphon_create_args create_args{};
  siphon_instance* created = nullptr;
  // poll
  std::string cursor;
  siphon_poll_args poll_args{};
  siphon_poll_result result{};
  std::string plugin_error;  // last_error after a failed poll (not redacted)
  PollOutcome outcome;
  std::string page;  // the page's events, copied when sleep_seconds was asked too
  bool asked_sleep = false;
  // sleep_seconds
  uint32_t polls_done = 0;
  uint32_t seconds = 0;
};

AppInstance::AppInstance(const AppTypeInfo& type, const AppConfig& app,
                         std::vector<std::pair<std::string, std::string>> auth, HttpService* http,
                         StopSignal* stop, const Redactor& redactor)
    : c_(type.c),
      plugin_name_(type.plugin ? type.plugin->name : type.type),
      options_(app.options),
      timeout_ms_(app.poll_timeout_ms),
      auth_(std::move(auth)),
      host_(std::make_unique<Host>()) {
  if (type.plugin) library_ = type.plugin->library;
  host_->app_name = app.name;
  host_->http = http;
  host_->stop = stop;
  host_->redactor = redactor;
  host_->api.struct_size = sizeof(host_->api);
  host_->api.abi_major = SIPHON_ABI_MAJOR;
  host_->api.abi_minor = SIPHON_ABI_MINOR;
  host_->api.http = &AppInstance::http_cb;
  host_->api.log = &AppInstance::log_cb;
  host_->api.now_ms = &AppInstance::now_cb;
}

AppInstance::~AppInstance() {
  if (host_->abandoned.load()) {
    // A plugin call is still running on a thread nobody can stop. Its
    // instance, host handle and library must outlive it, and it may never
    // return: they are deliberately leaked (never destroyed, never unloaded),
    // as destroying them under the running call would crash the host.
    (void)host_.release();
    (void)new std::shared_ptr<boost::dll::shared_library>(std::move(library_));
    return;
  }
  if (instance_) c_->destroy(instance_);
}

void AppInstance::forward_to(HostForward* forward) { host_->forward = forward; }

std::string AppInstance::plugin_error() const {
  return host_->redactor.apply(last_error_of(c_, instance_));
}

void AppInstance::abandon(const char* what, bool stopping) {
  host_->abandoned = true;
  failure_ = "app " + host_->app_name + ": plugin " + plugin_name_ + " did not return from " +
             what + " within " +
             (stopping ? format_duration(kStopGraceMs / 1000) + " of the stop request"
                       : format_duration(timeout_ms_ / 1000) + " (poll_timeout)") +
             "; the call is abandoned (an in-process plugin cannot be stopped)";
}

bool AppInstance::run_bounded(const char* what, const std::shared_ptr<Call>& call,
                              std::function<void(Call&)> fn, bool on_caller) {
  auto body = [fn = std::move(fn)](Call& c) {
    try {
      fn(c);
    } catch (const std::exception& e) {
      c.thrown = std::string("an exception escaped the plugin: ") + e.what();
    } catch (...) {
      c.thrown = "an exception escaped the plugin";
    }
  };
  if (!bounded_) {
    body(*call);
    return true;
  }
  if (on_caller && taken_) {
    // No hand-off: the call runs here. Should the watchdog take it, the
    // handler owns what comes after, so this thread must not go on, nor
    // touch the instance (the handler may have destroyed it).
    CallWatch::Call watch;
    watch.deadline_ms = steady_ms() + timeout_ms_;
    watch.stop_grace_ms = kStopGraceMs;
    watch.stop = host_->stop;
    watch.overdue = [this, what](bool stopping) {
      auto taken = taken_;  // a copy: the handler may destroy this instance
      abandon(what, stopping);
      taken();
    };
    CallWatch::instance().add(watch);
    body(*call);
    if (!CallWatch::instance().remove(watch)) CallWatch::park();
    return true;
  }
  auto job = std::make_unique<CallJob>([call, body] {
    body(*call);
    {
      std::lock_guard lock(call->mu);
      call->done = true;
    }
    call->cv.notify_all();
  });
  try {
    call_threads().start(*job);
    (void)job.release();  // the job deletes itself
  } catch (const Poco::Exception& e) {
    failure_ = "app " + host_->app_name + ": no thread for a plugin call: " + e.displayText();
    return false;
  }
  int64_t deadline = steady_ms() + timeout_ms_;
  int64_t stop_deadline = -1;
  bool stopping = false;
  std::unique_lock lock(call->mu);
  while (!call->done) {
    int64_t now = steady_ms();
    if (host_->stop && host_->stop->requested() && stop_deadline < 0)
      stop_deadline = now + kStopGraceMs;
    if (stop_deadline >= 0 && now >= stop_deadline) {
      stopping = true;
      break;
    }
    if (now >= deadline) break;
    call->cv.wait_for(lock, std::chrono::milliseconds(std::min<int64_t>(deadline - now, 200)));
  }
  if (call->done) return true;
  abandon(what, stopping);
  return false;
}

std::string AppInstance::create(bool validate_only) {
  auto call = std::make_shared<Call>();
  for (const auto& [k, v] : auth_) call->auth.push_back({k.c_str(), v.c_str()});
  for (const auto& [k, v] : options_) call->options.push_back({k.c_str(), v.c_str()});
  siphon_create_args& args = call->create_args;
  args.struct_size = sizeof(args);
  args.app_name = host_->app_name.c_str();
  args.auth = call->auth.data();
  args.auth_count = static_cast<uint32_t>(call->auth.size());
  args.options = call->options.data();
  args.option_count = static_cast<uint32_t>(call->options.size());
  args.host_api = &host_->api;
  args.host = reinterpret_cast<siphon_host*>(host_.get());
  args.validate_only = validate_only ? 1 : 0;
  const siphon_app_type* c = c_;
  if (!run_bounded("create", call,
                   [c](Call& k) { k.status = c->create(&k.create_args, &k.created); }))
    return failure_;
  instance_ = call->created;
  if (!call->thrown.empty()) return host_->redactor.apply(call->thrown);
  if (instance_ == nullptr) return "plugin could not create an instance";
  if (call->status != SIPHON_OK) return plugin_error();
  return "";
}

namespace {

// Reads what a successful poll returned into `out` (views into the plugin's
// buffers); out.status says whether the result holds together.
void read_poll_result(const siphon_poll_result& result, PollOutcome& out) {
  out.status = SIPHON_OK;
  if (!SIPHON_HAS_MEMBER(siphon_poll_result, has_more, result.struct_size)) {
    out.status = SIPHON_ERROR;
    out.error = "plugin returned an incomplete poll result (struct_size " +
                std::to_string(result.struct_size) + ")";
    return;
  }
  if (result.event_count > 0 && (result.events_buf == nullptr || result.event_offsets == nullptr)) {
    out.status = SIPHON_ERROR;
    out.error = "plugin returned events without a buffer";
    return;
  }
  out.events.reserve(result.event_count);
  for (uint32_t i = 0; i < result.event_count; ++i) {
    uint64_t a = result.event_offsets[i], b = result.event_offsets[i + 1];
    if (b < a) {
      out.status = SIPHON_ERROR;
      out.error = "plugin returned event offsets out of order";
      return;
    }
    out.events.emplace_back(result.events_buf + a, b - a);
  }
  if (result.next_cursor_len > SIPHON_MAX_CURSOR_BYTES) {
    out.status = SIPHON_ERROR;
    out.error = "plugin returned a cursor of " + std::to_string(result.next_cursor_len) +
                " bytes (limit " + std::to_string(SIPHON_MAX_CURSOR_BYTES) + ")";
    return;
  }
  if (result.next_cursor && result.next_cursor_len)
    out.next_cursor.assign(result.next_cursor, result.next_cursor_len);
  out.has_more = result.has_more != 0;
  // Members of ABI 1.1, absent from the results of older plugins.
  if (SIPHON_HAS_MEMBER(siphon_poll_result, newest_event_time_ms, result.struct_size))
    out.newest_event_time_ms = std::max<int64_t>(result.newest_event_time_ms, 0);
  if (SIPHON_HAS_MEMBER(siphon_poll_result, duplicates_dropped, result.struct_size))
    out.duplicates_dropped = result.duplicates_dropped;
}

}  // namespace

PollOutcome AppInstance::poll(const std::string& cursor, int64_t start_time_ms,
                              uint32_t poll_index) {
  PollOutcome out;
  prefetched_sleep_.reset();
  if (!failure_.empty() || instance_ == nullptr) {
    out.error = failure_.empty() ? "no instance" : failure_;
    return out;
  }
  auto call = std::make_shared<Call>();
  call->cursor = cursor;
  siphon_poll_args& args = call->poll_args;
  args.struct_size = sizeof(args);
  args.cursor = call->cursor.data();
  args.cursor_len = call->cursor.size();
  args.start_time_ms = start_time_ms;
  args.poll_index = poll_index;
  const siphon_app_type* c = c_;
  siphon_instance* inst = instance_;
  // One bounded call per poll (on this thread under the watchdog, or one
  // hand-off): when more pages wait, the same call also asks sleep_seconds,
  // after copying the page (the next call on the instance ends what the
  // plugin returned).
  if (!run_bounded(
          "poll", call,
          [c, inst, poll_index](Call& k) {
            k.status = c->poll(inst, &k.poll_args, &k.result);
            if (k.status != SIPHON_OK) {
              k.plugin_error = last_error_of(c, inst);
              return;
            }
            read_poll_result(k.result, k.outcome);
            if (k.outcome.status != SIPHON_OK || !k.outcome.has_more) return;
            if (!k.outcome.events.empty()) {
              const char* first = k.outcome.events.front().data();
              const char* last = k.outcome.events.back().data() + k.outcome.events.back().size();
              k.page.assign(first, static_cast<size_t>(last - first));
              for (auto& e : k.outcome.events)
                e = std::string_view(k.page.data() + (e.data() - first), e.size());
            }
            try {
              k.seconds = c->sleep_seconds(inst, poll_index + 1);
            } catch (...) {
              k.seconds = 0;
            }
            k.asked_sleep = true;
          },
          true)) {
    out.error = failure_;
    return out;
  }
  if (!call->thrown.empty()) {
    out.error = host_->redactor.apply(call->thrown);
    return out;
  }
  if (call->status != SIPHON_OK) {
    out.status = call->status;
    out.error = host_->redactor.apply(call->plugin_error);
    return out;
  }
  if (call->asked_sleep) prefetched_sleep_ = std::make_pair(poll_index + 1, call->seconds);
  // The outcome's views point into the plugin's buffers or the call's copy.
  last_poll_ = call;
  return std::move(call->outcome);
}

uint32_t AppInstance::sleep_seconds(uint32_t polls_done) {
  if (!failure_.empty() || instance_ == nullptr) return 0;
  if (prefetched_sleep_ && prefetched_sleep_->first == polls_done) {
    uint32_t seconds = prefetched_sleep_->second;
    prefetched_sleep_.reset();
    return seconds;
  }
  auto call = std::make_shared<Call>();
  call->polls_done = polls_done;
  const siphon_app_type* c = c_;
  siphon_instance* inst = instance_;
  if (!run_bounded("sleep_seconds", call,
                   [c, inst](Call& k) { k.seconds = c->sleep_seconds(inst, k.polls_done); }))
    return 0;
  return call->thrown.empty() ? call->seconds : 0;
}

siphon_status AppInstance::http_cb(siphon_host* host, const siphon_http_request* request,
                                   siphon_http_response* response) {
  auto* self = reinterpret_cast<Host*>(host);
  try {
    self->last_response = HttpResponse{};
    self->last_headers.clear();
    siphon_http_response out{};
    out.struct_size = sizeof(out);
    siphon_status st = SIPHON_ERROR;
    if (self->abandoned.load()) {
      self->last_response.error = "the host abandoned this call (deadline passed)";
    } else if (request == nullptr || request->method == nullptr || request->url == nullptr) {
      self->last_response.error = "incomplete request (method and url are required)";
    } else if (self->http == nullptr && self->forward == nullptr) {
      self->last_response.error = "no network while validating";
    } else {
      HttpRequest req;
      req.method = request->method;
      req.url = request->url;
      for (uint32_t i = 0; i < request->header_count; ++i)
        if (request->headers[i].name && request->headers[i].value)
          req.headers.emplace_back(request->headers[i].name, request->headers[i].value);
      if (request->body && request->body_len) req.body.assign(request->body, request->body_len);
      if (self->forward) {
        st = self->forward->http(req, self->last_response);
      } else {
        st = self->http->send(req, self->last_response, self->stop, &self->policy);
        if (log_enabled(LogLevel::kDebug))
          log_line(LogLevel::kDebug, self->app_name,
                   req.method + " " + self->redactor.apply(req.url.substr(0, req.url.find('?'))) +
                       " -> " + std::to_string(self->last_response.status) +
                       (self->last_response.error.empty() ? "" : " " + self->last_response.error));
      }
    }
    const HttpResponse& r = self->last_response;
    for (const auto& [k, v] : r.headers) self->last_headers.push_back({k.c_str(), v.c_str()});
    out.status = r.status;
    out.headers = self->last_headers.data();
    out.header_count = static_cast<uint32_t>(self->last_headers.size());
    out.body = r.body.data();
    out.body_len = r.body.size();
    out.error = r.error.c_str();
    if (response) {
      uint32_t size = response->struct_size ? response->struct_size : sizeof(out);
      std::memcpy(response, &out, std::min<size_t>(size, sizeof(out)));
      response->struct_size = std::min<uint32_t>(size, sizeof(out));
    }
    return st;
  } catch (...) {
    return SIPHON_ERROR;
  }
}

void AppInstance::log_cb(siphon_host* host, int32_t level, const char* message) {
  auto* self = reinterpret_cast<Host*>(host);
  if (message == nullptr || self->abandoned.load()) return;
  try {
    if (self->forward) {
      self->forward->log(level, message);
      return;
    }
    LogLevel l = LogLevel::kInfo;
    if (level >= SIPHON_LOG_TRACE && level <= SIPHON_LOG_ERROR) l = static_cast<LogLevel>(level);
    log_line(l, self->app_name, self->redactor.apply(message));
  } catch (...) {
  }
}

int64_t AppInstance::now_cb(siphon_host* host) {
  auto* self = reinterpret_cast<Host*>(host);
  try {
    if (self->forward && !self->abandoned.load()) return self->forward->now_ms();
  } catch (...) {
  }
  return now_ms();
}

std::unique_ptr<PluginInstance> make_plugin_instance(
    const AppTypeInfo& type, const AppConfig& app,
    std::vector<std::pair<std::string, std::string>> auth, HttpService* http, StopSignal* stop,
    const Redactor& redactor) {
  if (app.isolation == AppConfig::Isolation::kProcess)
    return std::make_unique<IsolatedInstance>(type, app, std::move(auth), http, stop, redactor);
  return std::make_unique<AppInstance>(type, app, std::move(auth), http, stop, redactor);
}

}  // namespace siphon

namespace siphon {

void AppInstance::set_request_policy(RequestPolicy policy) { host_->policy = std::move(policy); }

}  // namespace siphon
