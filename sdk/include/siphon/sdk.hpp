// siphon/sdk.hpp - the C++ SDK for writing a Siphon plugin.
//
// A plugin author writes one class per app type and one export macro:
//
//   class DuoAdmin : public siphon::App {
//    public:
//     static std::string service() { return "duo"; }
//     static std::string type() { return "admin"; }          // log type: app type "duo_admin"
//     static std::string description() { return "Duo administrator logs"; }
//     static uint32_t default_interval_seconds() { return 600; }   // optional, default 300
//     static siphon::AuthInfo required_auth_info() { return {...}; }
//     static siphon::Options options() { return {...}; }          // optional
//     static std::string event_id_field() { return "id"; }        // optional: the
//                                 // member of each event holding the vendor's unique id
//     explicit DuoAdmin(siphon::Context& ctx);   // validates auth beyond the regexes; may throw
//     siphon::Logs gather_logs(const siphon::Cursor& cursor) override;   // one page
//     uint32_t sleep_seconds(uint32_t polls_done) override;              // optional
//   };
//   SIPHON_PLUGIN("siphon-duo", "1.0.0", DuoAdmin, DuoAuth)
//
// The macro defines the one exported C entry symbol of plugin_api.h and the
// noexcept thunks behind it: exceptions thrown by the class become status
// codes plus last_error (siphon::Error carries the status to use).
//
// Threads: the host never calls one instance from two threads at once, so an
// App needs no locking. It must not start threads or keep mutable globals.
// Network: only through Context (the host's HTTP service).
#ifndef SIPHON_SDK_HPP
#define SIPHON_SDK_HPP

#include <rapidjson/document.h>
#include <siphon/plugin_api.h>

#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#define SIPHON_SDK_VERSION_MAJOR 0
#define SIPHON_SDK_VERSION_MINOR 1
#define SIPHON_SDK_VERSION_PATCH 0

namespace siphon {

// One auth field: the config's auth key, a one-line description, the PCRE
// regex the whole value must match, and whether it is a secret / optional.
struct AuthField {
  std::string name;
  std::string description;
  std::string regex;
  bool secret = false;
  bool optional = false;
};
using AuthInfo = std::vector<AuthField>;

// One option under `options:` with its default ("" for none).
struct OptionSpec {
  std::string name;
  std::string description;
  std::string default_value;
};
using Options = std::vector<OptionSpec>;

// Thrown by plugin code to end a call with a given status and reason. The
// reason must never contain an auth value.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what, siphon_status status = SIPHON_ERROR)
      : std::runtime_error(what), status_(status) {}
  siphon_status status() const { return status_; }

 private:
  siphon_status status_;
};
// The vendor refused the credentials (401/403 after a fresh token).
class AuthRejected : public Error {
 public:
  explicit AuthRejected(const std::string& what) : Error(what, SIPHON_AUTH_REJECTED) {}
};
// A transient failure: the host keeps the cursor and tries at the next run.
class RetryLater : public Error {
 public:
  explicit RetryLater(const std::string& what) : Error(what, SIPHON_RETRY_LATER) {}
};

using Params = std::vector<std::pair<std::string, std::string>>;
using Headers = std::vector<std::pair<std::string, std::string>>;

// An HTTP response, copied out of the host's buffers.
struct Response {
  int status = 0;
  Headers headers;
  std::string body;

  bool ok() const { return status >= 200 && status < 300; }
  // First header with this name (case-insensitive), or "".
  std::string header(std::string_view name) const;
  // Every header with this name, in order, joined by ", " (RFC 9110 5.3: a
  // list-valued field such as Link may come as several headers or as one
  // comma-joined header; both read the same this way), or "".
  std::string joined_header(std::string_view name) const;
  // That header as a whole number, or std::nullopt when absent or not one.
  std::optional<int64_t> header_int(std::string_view name) const;
  // Parses the body as JSON; throws siphon::Error naming `what` (e.g. the
  // endpoint) and the parse error when it is not valid JSON.
  rapidjson::Document json(std::string_view what) const;
};

// Where a run stands when gather_logs is called.
struct Cursor {
  std::string value;          // last committed cursor; "" on the very first run
  int64_t start_time_ms = 0;  // where to start when value is "" (now - interval or --since)
  uint32_t poll_index = 0;    // polls already made in this run
  bool empty() const { return value.empty(); }
};

// The result of one poll: events, the cursor that covers them, more or not.
class Logs {
 public:
  // Adds one event given as a JSON object's text (copied as is).
  void add(std::string_view json_object);
  // Adds one event given as a RapidJSON value (serialised compactly).
  void add(const rapidjson::Value& event);
  size_t size() const { return offsets_.size() - 1; }
  bool empty() const { return size() == 0; }
  // Room for about `bytes` of event text in `events` events (e.g. a page's
  // body size and record count), so that adding them does not reallocate.
  void reserve(size_t bytes, size_t events) {
    buffer_.reserve(buffer_.size() + bytes);
    offsets_.reserve(offsets_.size() + events);
  }

  std::string next_cursor;    // committed once the events are delivered
  bool more_to_poll = false;  // poll again in this run

  // The vendor's time of an event added to this page (ms since the epoch):
  // the newest one is reported to the host, which shows the app's lag behind
  // it. Call it for each event whose time is known; 0 or less is ignored.
  void event_time(int64_t unix_ms) {
    if (unix_ms > newest_event_time_ms) newest_event_time_ms = unix_ms;
  }
  int64_t newest_event_time_ms = 0;  // 0 = unknown
  // Events fetched but left out as already delivered (for the host's metrics).
  uint32_t duplicates_dropped = 0;

  const std::string& buffer() const { return buffer_; }
  const std::vector<uint64_t>& offsets() const { return offsets_; }

 private:
  std::string buffer_;
  std::vector<uint64_t> offsets_{0};
};

// What an App gets from the host: its config, HTTP, logging and the clock.
class Context {
 public:
  Context(const siphon_create_args& args);
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const std::string& app_name() const { return app_name_; }
  bool validate_only() const { return validate_only_; }

  // An auth value; "" when the config did not set it.
  const std::string& auth(const std::string& name) const;
  bool has_auth(const std::string& name) const;
  // An option's value, or `fallback` when the config did not set it.
  std::string option(const std::string& name, const std::string& fallback = "") const;
  // An option as a whole number; throws siphon::Error naming the option.
  int64_t option_int(const std::string& name, int64_t fallback) const;
  // As above, and from `min` to `max`; throws siphon::Error "option NAME: must
  // be MIN to MAX" otherwise (the fallback is not checked).
  int64_t option_int(const std::string& name, int64_t fallback, int64_t min, int64_t max) const;
  // The options the config set whose names start with `prefix` (a family
  // such as "header." declared as "header.*"), as (rest of the name, value)
  // pairs in name order: {"header.X-Api-Version": "2"} gives ("X-Api-Version", "2").
  Params options_with_prefix(std::string_view prefix) const;

  // Applies options.base_url: replaces scheme, host and port of a vendor URL,
  // keeping path and query. Returns the URL unchanged without base_url.
  std::string vendor_url(std::string_view url) const;

  // HTTP through the host. `url` is absolute; `query` is appended encoded.
  Response get(const std::string& url, const Params& query = {}, const Headers& headers = {});
  Response post_form(const std::string& url, const Params& form, const Headers& headers = {});
  Response post_json(const std::string& url, const std::string& json, const Headers& headers = {});
  Response send(const std::string& method, const std::string& url, const Headers& headers,
                const std::string& body);

  void log(int32_t level, const std::string& message);
  void debug(const std::string& m) { log(SIPHON_LOG_DEBUG, m); }
  void info(const std::string& m) { log(SIPHON_LOG_INFO, m); }
  void warn(const std::string& m) { log(SIPHON_LOG_WARN, m); }
  void error(const std::string& m) { log(SIPHON_LOG_ERROR, m); }

  int64_t now_ms() const;

 private:
  std::string app_name_;
  std::map<std::string, std::string> auth_;
  std::map<std::string, std::string> options_;
  const siphon_host_api* api_;
  siphon_host* host_;
  bool validate_only_;
};

// Base class of every app type.
class App {
 public:
  explicit App(Context& ctx) : ctx_(ctx) {}
  virtual ~App() = default;
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // One poll: fetch one page after `cursor`, return its events, the cursor
  // that covers them and whether more pages wait. Throw siphon::Error (or
  // AuthRejected / RetryLater) on failure; the host then keeps the cursor.
  virtual Logs gather_logs(const Cursor& cursor) = 0;
  // Seconds to wait before the next poll of the same run (vendor pacing).
  virtual uint32_t sleep_seconds(uint32_t /*polls_done*/) { return 0; }

 protected:
  Context& ctx() { return ctx_; }

 private:
  Context& ctx_;
};

// A string literal usable as a template argument.
template <size_t N>
struct Literal {
  constexpr Literal(const char (&text)[N]) {
    for (size_t i = 0; i < N; ++i) value[i] = text[i];
  }
  char value[N];
};

// One of several app types that share a class and differ by one parameter
// (Salesforce's EventType, a Google Reports application ...): the app type
// `Type` of Base's service, described by `Description`, constructed as
// Base(ctx, Param). Base declares service() and required_auth_info().
//   SIPHON_PLUGIN("siphon-sf", "1.0.0",
//                 siphon::Variant<EventLogApp, "login", "Login", "Salesforce logins">, ...)
template <class Base, Literal Type, Literal Param, Literal Description>
class Variant : public Base {
 public:
  static std::string type() { return Type.value; }
  static std::string description() { return Description.value; }
  explicit Variant(Context& ctx) : Base(ctx, Param.value) {}
};

// A RapidJSON value as compact JSON text.
std::string to_json(const rapidjson::Value& value);

// URL-encodes under RFC 3986 (unreserved kept, %XX upper-case hex).
std::string url_encode(std::string_view value);
// Joins already-unencoded pairs as k=v&k=v, each part url_encode'd.
std::string encode_params(const Params& params);
// As encode_params, with the pairs sorted by encoded name, then by encoded
// value (byte order): the canonical query that request signatures cover
// (Duo, Aliyun).
std::string encode_params_sorted(const Params& params);

// A next-page URL a vendor returned (absolute, or a path starting with "/"),
// made absolute against `current` (the URL of the request that returned it).
// Throws siphon::Error when it would leave the origin (scheme, host and port)
// of `current`: a vendor reply must never steer the app's credentials to
// another server or from https to http.
std::string next_page_url(std::string_view next, std::string_view current);

// The target of the rel="next" link of an RFC 8288 Link header, or "" when
// there is none (e.g. `<https://x/logs?after=2>; rel="next"`).
std::string link_next(std::string_view link_header);

namespace detail {

// Everything one instance owns on the plugin side of the boundary.
struct Instance {
  std::unique_ptr<Context> ctx;
  std::unique_ptr<App> app;
  std::string last_error;
  Logs last;
};

// Static metadata of one app type, kept alive for the library's lifetime.
struct TypeStorage {
  std::string service, log_type, description, event_id_field;
  std::vector<AuthField> auth;
  std::vector<OptionSpec> options;
  std::vector<siphon_auth_field> auth_c;
  std::vector<const siphon_auth_field*> auth_ptrs;
  std::vector<siphon_option> options_c;
  std::vector<const siphon_option*> option_ptrs;
  siphon_app_type c{};
};

void fill_type(TypeStorage& t, uint32_t default_interval_seconds);
siphon_status fail(Instance* inst, const std::exception* e);
siphon_status poll_app(Instance* inst, const siphon_poll_args* args, siphon_poll_result* result);
uint32_t sleep_app(Instance* inst, uint32_t polls_done);
const char* last_error(Instance* inst);
void destroy(Instance* inst);

template <class T>
concept HasInterval = requires {
  T::default_interval_seconds();
};
template <class T>
concept HasOptions = requires {
  T::options();
};

template <class T>
struct AppThunks {
  static_assert(std::is_base_of_v<App, T>, "an app type must derive from siphon::App");
  static_assert(std::is_convertible_v<decltype(T::service()), std::string>,
                "static service() must return a string");
  static_assert(std::is_convertible_v<decltype(T::type()), std::string>,
                "static type() must return the log type as a string");
  static_assert(std::is_same_v<decltype(T::required_auth_info()), AuthInfo>,
                "static required_auth_info() must return siphon::AuthInfo");
  static_assert(std::is_constructible_v<T, Context&>,
                "an app type needs a constructor taking siphon::Context&");

  static siphon_status create(const siphon_create_args* args, siphon_instance** out) noexcept {
    Instance* inst = nullptr;
    try {
      inst = new Instance();
    } catch (...) {
      *out = nullptr;
      return SIPHON_ERROR;
    }
    *out = reinterpret_cast<siphon_instance*>(inst);
    try {
      inst->ctx = std::make_unique<Context>(*args);
      inst->app = std::make_unique<T>(*inst->ctx);
      return SIPHON_OK;
    } catch (const std::exception& e) {
      return fail(inst, &e);
    } catch (...) {
      return fail(inst, nullptr);
    }
  }
  static siphon_status poll(siphon_instance* i, const siphon_poll_args* a,
                            siphon_poll_result* r) noexcept {
    return poll_app(reinterpret_cast<Instance*>(i), a, r);
  }
  static uint32_t sleep(siphon_instance* i, uint32_t n) noexcept {
    return sleep_app(reinterpret_cast<Instance*>(i), n);
  }
  static const char* error(siphon_instance* i) noexcept {
    return last_error(reinterpret_cast<Instance*>(i));
  }
  static void destroy_instance(siphon_instance* i) noexcept {
    destroy(reinterpret_cast<Instance*>(i));
  }

  static const siphon_app_type* describe(TypeStorage& t) {
    t.service = T::service();
    t.log_type = T::type();
    if constexpr (requires { T::description(); }) t.description = T::description();
    t.auth = T::required_auth_info();
    if constexpr (HasOptions<T>) t.options = T::options();
    if constexpr (requires { T::event_id_field(); }) t.event_id_field = T::event_id_field();
    uint32_t interval = 300;
    if constexpr (HasInterval<T>) interval = T::default_interval_seconds();
    fill_type(t, interval);
    t.c.create = &create;
    t.c.poll = &poll;
    t.c.sleep_seconds = &sleep;
    t.c.last_error = &error;
    t.c.destroy = &destroy_instance;
    return &t.c;
  }
};

template <class... Types>
const siphon_plugin* make_plugin(const char* name, const char* version, uint32_t host_major) {
  if (host_major != SIPHON_ABI_MAJOR) return nullptr;
  static TypeStorage storage[sizeof...(Types)];
  static const siphon_app_type* types[sizeof...(Types)] = {};
  static siphon_plugin plugin{};
  if (plugin.struct_size == 0) {
    size_t i = 0;
    ((types[i] = AppThunks<Types>::describe(storage[i]), ++i), ...);
    plugin.struct_size = sizeof(siphon_plugin);
    plugin.abi_major = SIPHON_ABI_MAJOR;
    plugin.abi_minor = SIPHON_ABI_MINOR;
    plugin.name = name;
    plugin.version = version;
    plugin.app_types = types;
    plugin.app_type_count = static_cast<uint32_t>(sizeof...(Types));
  }
  return &plugin;
}

}  // namespace detail
}  // namespace siphon

#if defined(_WIN32)
#define SIPHON_EXPORT __declspec(dllexport)
#else
#define SIPHON_EXPORT __attribute__((visibility("default")))
#endif

// Defines the plugin's one exported entry symbol. NAME and VERSION are string
// literals; the rest are the App classes it provides.
#define SIPHON_PLUGIN(NAME, VERSION, ...)                                                  \
  extern "C" SIPHON_EXPORT const siphon_plugin* siphon_plugin_entry(uint32_t host_major,   \
                                                                    uint32_t host_minor) { \
    (void)host_minor;                                                                      \
    try {                                                                                  \
      return ::siphon::detail::make_plugin<__VA_ARGS__>(NAME, VERSION, host_major);        \
    } catch (...) {                                                                        \
      return nullptr;                                                                      \
    }                                                                                      \
  }

#endif  // SIPHON_SDK_HPP
