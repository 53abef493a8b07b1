#include "plugin/app_instance.hpp"

#include <algorithm>
#include <cstring>

#include "util/clock.hpp"

namespace siphon {

AppInstance::AppInstance(const AppTypeInfo& type, const AppConfig& app,
                         std::vector<std::pair<std::string, std::string>> auth, HttpService* http,
                         StopSignal* stop, const Redactor& redactor)
    : type_(type),
      app_(app),
      auth_(std::move(auth)),
      http_(http),
      stop_(stop),
      redactor_(redactor) {
  api_.struct_size = sizeof(api_);
  api_.abi_major = SIPHON_ABI_MAJOR;
  api_.abi_minor = SIPHON_ABI_MINOR;
  api_.http = &AppInstance::http_cb;
  api_.log = &AppInstance::log_cb;
  api_.now_ms = &AppInstance::now_cb;
}

AppInstance::~AppInstance() {
  if (instance_) type_.c->destroy(instance_);
}

std::string AppInstance::plugin_error() const {
  const char* e = instance_ ? type_.c->last_error(instance_) : nullptr;
  std::string why = e && *e ? e : "no reason given";
  return redactor_.apply(why);
}

std::string AppInstance::create(bool validate_only) {
  std::vector<siphon_pair> auth, options;
  for (const auto& [k, v] : auth_) auth.push_back({k.c_str(), v.c_str()});
  for (const auto& [k, v] : app_.options) options.push_back({k.c_str(), v.c_str()});
  siphon_create_args args{};
  args.struct_size = sizeof(args);
  args.app_name = app_.name.c_str();
  args.auth = auth.data();
  args.auth_count = static_cast<uint32_t>(auth.size());
  args.options = options.data();
  args.option_count = static_cast<uint32_t>(options.size());
  args.host_api = &api_;
  args.host = reinterpret_cast<siphon_host*>(this);
  args.validate_only = validate_only ? 1 : 0;
  siphon_status st = type_.c->create(&args, &instance_);
  if (instance_ == nullptr) return "plugin could not create an instance";
  if (st != SIPHON_OK) return plugin_error();
  return "";
}

PollOutcome AppInstance::poll(const std::string& cursor, int64_t start_time_ms,
                              uint32_t poll_index) {
  PollOutcome out;
  siphon_poll_args args{};
  args.struct_size = sizeof(args);
  args.cursor = cursor.data();
  args.cursor_len = cursor.size();
  args.start_time_ms = start_time_ms;
  args.poll_index = poll_index;
  siphon_poll_result result{};
  out.status = type_.c->poll(instance_, &args, &result);
  if (out.status != SIPHON_OK) {
    out.error = plugin_error();
    return out;
  }
  if (!SIPHON_HAS_MEMBER(siphon_poll_result, has_more, result.struct_size)) {
    out.status = SIPHON_ERROR;
    out.error = "plugin returned an incomplete poll result (struct_size " +
                std::to_string(result.struct_size) + ")";
    return out;
  }
  if (result.event_count > 0 && (result.events_buf == nullptr || result.event_offsets == nullptr)) {
    out.status = SIPHON_ERROR;
    out.error = "plugin returned events without a buffer";
    return out;
  }
  out.events.reserve(result.event_count);
  for (uint32_t i = 0; i < result.event_count; ++i) {
    uint64_t a = result.event_offsets[i], b = result.event_offsets[i + 1];
    if (b < a) {
      out.status = SIPHON_ERROR;
      out.error = "plugin returned event offsets out of order";
      return out;
    }
    out.events.emplace_back(result.events_buf + a, b - a);
  }
  if (result.next_cursor_len > SIPHON_MAX_CURSOR_BYTES) {
    out.status = SIPHON_ERROR;
    out.error = "plugin returned a cursor of " + std::to_string(result.next_cursor_len) +
                " bytes (limit " + std::to_string(SIPHON_MAX_CURSOR_BYTES) + ")";
    return out;
  }
  if (result.next_cursor && result.next_cursor_len)
    out.next_cursor.assign(result.next_cursor, result.next_cursor_len);
  out.has_more = result.has_more != 0;
  return out;
}

uint32_t AppInstance::sleep_seconds(uint32_t polls_done) {
  return type_.c->sleep_seconds(instance_, polls_done);
}

siphon_status AppInstance::http_cb(siphon_host* host, const siphon_http_request* request,
                                   siphon_http_response* response) {
  auto* self = reinterpret_cast<AppInstance*>(host);
  try {
    self->last_response_ = HttpResponse{};
    self->last_headers_.clear();
    siphon_http_response out{};
    out.struct_size = sizeof(out);
    siphon_status st = SIPHON_ERROR;
    if (self->http_ == nullptr) {
      self->last_response_.error = "no network while validating";
    } else if (request == nullptr || request->method == nullptr || request->url == nullptr) {
      self->last_response_.error = "incomplete request (method and url are required)";
    } else {
      HttpRequest req;
      req.method = request->method;
      req.url = request->url;
      for (uint32_t i = 0; i < request->header_count; ++i)
        if (request->headers[i].name && request->headers[i].value)
          req.headers.emplace_back(request->headers[i].name, request->headers[i].value);
      if (request->body && request->body_len) req.body.assign(request->body, request->body_len);
      st = self->http_->send(req, self->last_response_, self->stop_);
      if (log_enabled(LogLevel::kDebug))
        log_line(LogLevel::kDebug, self->app_.name,
                 req.method + " " + self->redactor_.apply(req.url.substr(0, req.url.find('?'))) +
                     " -> " + std::to_string(self->last_response_.status) +
                     (self->last_response_.error.empty() ? "" : " " + self->last_response_.error));
    }
    const HttpResponse& r = self->last_response_;
    for (const auto& [k, v] : r.headers) self->last_headers_.push_back({k.c_str(), v.c_str()});
    out.status = r.status;
    out.headers = self->last_headers_.data();
    out.header_count = static_cast<uint32_t>(self->last_headers_.size());
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
  auto* self = reinterpret_cast<AppInstance*>(host);
  if (message == nullptr) return;
  try {
    LogLevel l = LogLevel::kInfo;
    if (level >= SIPHON_LOG_TRACE && level <= SIPHON_LOG_ERROR) l = static_cast<LogLevel>(level);
    log_line(l, self->app_.name, self->redactor_.apply(message));
  } catch (...) {
  }
}

int64_t AppInstance::now_cb(siphon_host*) { return now_ms(); }

}  // namespace siphon
