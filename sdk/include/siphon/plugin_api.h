/*
 * siphon/plugin_api.h - the C ABI between the siphon host and its plugins.
 *
 * A plugin is one shared library that exports exactly one C symbol,
 * `siphon_plugin_entry` (SIPHON_ENTRY_SYMBOL). The host calls it once after
 * loading the library and receives a descriptor: the plugin's name and
 * version, the ABI version it was built with, and one or more app types.
 * Each app type carries its metadata (service, log type, auth fields with
 * regexes, options) and its callbacks (create, poll, sleep_seconds,
 * last_error, destroy).
 *
 * Compatibility promise
 *   - SIPHON_ABI_MAJOR changes only when an existing member changes meaning
 *     or position. The host refuses a plugin built with another major.
 *   - SIPHON_ABI_MINOR grows when members are appended. The host refuses a
 *     plugin built with a newer minor than its own (it could not know what the
 *     plugin expects), and accepts any older minor.
 *   - Every growable struct starts with `struct_size`, set by whoever fills
 *     the struct to sizeof() as that party was compiled. Members are only ever
 *     appended; a reader uses a member only if
 *     offsetof(member) + sizeof(member) <= struct_size (SIPHON_HAS_MEMBER).
 *   - Arrays of growable structs cross as arrays of pointers, so that each
 *     element keeps its own size.
 *
 * Rules both sides keep
 *   - Only C types cross: fixed-width integers, UTF-8 strings (NUL-terminated
 *     unless a length is given), and opaque handles. No C++ types, no
 *     exceptions: a callback never lets an exception escape.
 *   - Whoever allocates frees. Host inputs are valid only during the call that
 *     passes them. What a plugin returns is valid until its next call on the
 *     same instance; the host copies it at once.
 *   - The host never calls one instance from two threads at once; different
 *     instances may run in parallel on different threads. A plugin starts no
 *     threads and keeps no mutable global state.
 *   - A plugin reaches the network only through siphon_host_api.http.
 *
 * Division of work
 *   The host owns transport: TLS, timeouts, connection reuse, redirects
 *   (followed only on the same origin), retries with backoff and jitter on
 *   connection errors, 429 and 5xx (honouring Retry-After), and rate limits
 *   (a steady rate per credential, and pauses learnt from X-RateLimit-* /
 *   X-Rate-Limit-* headers, shared by every app of that credential). A
 *   plugin therefore does not retry, sleep on 429 or parse rate-limit
 *   headers; when the host has no retry left, http returns
 *   SIPHON_RETRY_LATER and the plugin returns it from poll.
 *   The plugin owns the vendor's semantics: signing requests, obtaining and
 *   refreshing tokens, building queries, mapping vendor bodies (events,
 *   next-page positions, error replies, a rate limit stated only in a body)
 *   into events, a cursor and a status.
 *
 * Options the host declares for every app type
 *   base_url  replaces the scheme, host and port of every vendor URL the app
 *             calls (API and token endpoints alike), keeping the paths:
 *             regional endpoints, proxies, local imitations. https:// only,
 *             or http:// for loopback hosts; the host validates it and passes
 *             it in siphon_create_args.options like any option. A plugin does
 *             not list it in siphon_app_type.options (one that does, built
 *             before this was stated, is accepted; its entry is not shown
 *             twice). The SDK applies it (siphon::Context::vendor_url).
 *             URLs the vendor returns (next-page links) are used as given,
 *             but must stay on the origin of the request that returned them.
 *   - Nothing here assumes the plugin shares the host's address space: every
 *     host service is reached through the siphon_host_api table, so the host
 *     may run a plugin in a worker process and forward these calls.
 *
 * This header compiles as C99 and as C++.
 */
#ifndef SIPHON_PLUGIN_API_H
#define SIPHON_PLUGIN_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI version this header describes.
 * 1.1 appended siphon_app_type.event_id_field, and siphon_poll_result.newest_event_time_ms
 *     and .duplicates_dropped. */
#define SIPHON_ABI_MAJOR 1
#define SIPHON_ABI_MINOR 1

/* Name of the one symbol a plugin exports (type: siphon_plugin_entry_fn). */
#define SIPHON_ENTRY_SYMBOL "siphon_plugin_entry"

/* Largest cursor the host stores for an app, in bytes. */
#define SIPHON_MAX_CURSOR_BYTES 65536

/* True when a struct of `size` bytes filled by the other side holds `member`. */
#define SIPHON_HAS_MEMBER(type, member, size) \
  (offsetof(type, member) + sizeof(((type*)0)->member) <= (size))

/*
 * Status codes returned by callbacks and host services. Zero is not a valid
 * status, so an uninitialised value is never mistaken for success.
 */
typedef int32_t siphon_status;
#define SIPHON_OK 1            /* the call did what was asked */
#define SIPHON_ERROR 2         /* it failed; last_error says why */
#define SIPHON_RETRY_LATER 3   /* a transient failure (rate limit, 5xx): try at the next run */
#define SIPHON_AUTH_REJECTED 4 /* the vendor refused the credentials */

/* Log levels for siphon_host_api.log. */
#define SIPHON_LOG_TRACE 1
#define SIPHON_LOG_DEBUG 2
#define SIPHON_LOG_INFO 3
#define SIPHON_LOG_WARN 4
#define SIPHON_LOG_ERROR 5

/* Opaque handle to the host's context for one app instance (logging, HTTP). */
typedef struct siphon_host siphon_host;

/* Opaque handle to a plugin's app instance. */
typedef struct siphon_instance siphon_instance;

/* A name/value pair of UTF-8 strings (HTTP header, auth value, option). */
typedef struct siphon_pair {
  const char* name;
  const char* value;
} siphon_pair;

/*
 * An HTTP request a plugin asks the host to send.
 * Filled by: the plugin. Valid: during siphon_host_api.http only.
 */
typedef struct siphon_http_request {
  /* Required: sizeof(siphon_http_request) as the plugin was compiled. */
  uint32_t struct_size;
  /* Required: "GET" or "POST" (upper case). */
  const char* method;
  /* Required: absolute URL, scheme://host[:port]/path[?query], already
   * percent-encoded. http:// is allowed only for loopback hosts. */
  const char* url;
  /* Optional: extra request headers (may be NULL when header_count is 0).
   * The host adds Host, User-Agent, Content-Length and Connection itself. */
  const siphon_pair* headers;
  uint32_t header_count;
  /* Optional: request body and its length in bytes (NULL/0 for none). */
  const char* body;
  uint64_t body_len;
} siphon_http_request;

/*
 * The host's answer to an HTTP request.
 * Filled by: the host. Owned by: the host. Valid: until the next http call
 * through the same siphon_host handle, or until the current callback returns.
 */
typedef struct siphon_http_response {
  /* sizeof(siphon_http_response) as the host was compiled. */
  uint32_t struct_size;
  /* HTTP status code, or 0 when no response arrived (see error). */
  int32_t status;
  /* Response headers; names as the server sent them. */
  const siphon_pair* headers;
  uint32_t header_count;
  /* Response body (not NUL-terminated) and its length in bytes. */
  const char* body;
  uint64_t body_len;
  /* When the call failed without a response: a one-line reason; else "". */
  const char* error;
} siphon_http_response;

/*
 * Services the host gives every instance. Filled by: the host. Valid: for the
 * whole life of the instance it was passed to (create to destroy).
 * Threads: call only from inside a callback of the instance that owns `host`.
 */
typedef struct siphon_host_api {
  /* sizeof(siphon_host_api) as the host was compiled. */
  uint32_t struct_size;
  /* ABI version of the host. */
  uint32_t abi_major;
  uint32_t abi_minor;
  /*
   * Sends one HTTP request through the host's shared session pool (TLS
   * policy, timeouts, retries on connection errors, 429 and 5xx).
   * Arguments: host handle; the request; response filled by the host.
   * Returns: SIPHON_OK when a response arrived, whatever its status;
   *          SIPHON_ERROR when none did (response->error says why);
   *          SIPHON_RETRY_LATER when the host gave up on rate limits or
   *          server errors, or the run's deadline would pass.
   * Required: yes (always provided).
   */
  siphon_status (*http)(siphon_host* host, const siphon_http_request* request,
                        siphon_http_response* response);
  /*
   * Writes one log line tagged with the app. The host redacts the app's auth
   * values should they appear in `message`.
   * Arguments: host handle; SIPHON_LOG_* level; NUL-terminated UTF-8 line.
   */
  void (*log)(siphon_host* host, int32_t level, const char* message);
  /*
   * Current time as the host sees it, in milliseconds since the Unix epoch.
   * Plugins use it instead of the system clock so that tests can shift it.
   */
  int64_t (*now_ms)(siphon_host* host);
} siphon_host_api;

/*
 * What the host passes to create. Filled by: the host. Valid: during create.
 */
typedef struct siphon_create_args {
  uint32_t struct_size;
  /* App name from the config, e.g. "corp-duo". */
  const char* app_name;
  /* Auth values, one per declared field the config set (resolved secrets). */
  const siphon_pair* auth;
  uint32_t auth_count;
  /* Options the config set, as strings (declared defaults are not added). */
  const siphon_pair* options;
  uint32_t option_count;
  /* Host services and the handle to pass to them. */
  const siphon_host_api* host_api;
  siphon_host* host;
  /* Non-zero when the host only validates (siphon check): the plugin must
   * not use the network and the instance is destroyed right after. */
  int32_t validate_only;
} siphon_create_args;

/*
 * What the host passes to poll. Filled by: the host. Valid: during poll.
 */
typedef struct siphon_poll_args {
  uint32_t struct_size;
  /* The last committed cursor (cursor_len may be 0: no cursor yet). */
  const char* cursor;
  uint64_t cursor_len;
  /* Where a run without a cursor starts, ms since the epoch (now - interval,
   * or the operator's --since). */
  int64_t start_time_ms;
  /* Polls already made in this run (0 for the first poll of a run). */
  uint32_t poll_index;
} siphon_poll_args;

/*
 * What poll returns. Filled by: the plugin. Owned by: the plugin. Valid:
 * until the plugin's next call on the same instance.
 */
typedef struct siphon_poll_result {
  /* Required: sizeof(siphon_poll_result) as the plugin was compiled. */
  uint32_t struct_size;
  /* The events of this poll, each one JSON object, laid end to end in
   * events_buf; event i is bytes [event_offsets[i], event_offsets[i+1]).
   * event_offsets has event_count + 1 entries (may be NULL when count is 0). */
  const char* events_buf;
  const uint64_t* event_offsets;
  uint32_t event_count;
  /* Cursor to commit once the events are delivered (at most
   * SIPHON_MAX_CURSOR_BYTES). */
  const char* next_cursor;
  uint64_t next_cursor_len;
  /* Non-zero when more pages wait and the host should poll again. */
  int32_t has_more;
  /*
   * Since ABI 1.1. The time of the newest event in this page, in milliseconds
   * since the Unix epoch, as the vendor stamped it; 0 when unknown (no events,
   * or events without a time). Once the page is delivered the host reports
   * "now minus the newest event time committed" as the app's lag
   * (siphon_app_lag_seconds).
   * Required: no (a plugin of ABI 1.0 does not have it; the host reads it only
   * when struct_size says it is there, and treats it as 0 otherwise).
   */
  int64_t newest_event_time_ms;
  /*
   * Since ABI 1.1. Events the plugin fetched in this poll but left out as
   * already delivered (a lookback window that overlaps, a page that repeats
   * the previous page's last events); 0 when none or not counted. Counted in
   * siphon_duplicates_dropped_total; it changes nothing else.
   * Required: no (read only when struct_size says it is there).
   */
  uint32_t duplicates_dropped;
} siphon_poll_result;

/*
 * One auth field an app type needs. Metadata: static, valid while the
 * library is loaded.
 */
typedef struct siphon_auth_field {
  uint32_t struct_size;
  /* Required: key in the config's auth map, e.g. "integration_key". */
  const char* name;
  /* Required: one line for operators (shown by siphon plugins and auth set). */
  const char* description;
  /* Required: PCRE pattern the whole value must match. */
  const char* regex;
  /* Non-zero when the value is a credential; the host never prints it. */
  int32_t is_secret;
  /* Non-zero when the field may be left out (the plugin checks the
   * combination in create). */
  int32_t is_optional;
} siphon_auth_field;

/* One option an app type accepts under `options:`. Static metadata. */
typedef struct siphon_option {
  uint32_t struct_size;
  /* Required: key under `options:`, e.g. "limit". A name ending in ".*"
   * declares a family: every key made of the part before the "*" and at
   * least one more character ("header.*" accepts header.X-Api-Key). The
   * plugin reads a family's members among siphon_create_args.options. */
  const char* name;
  const char* description;
  /* Default value as text, or "" when there is none. */
  const char* default_value;
} siphon_option;

/*
 * One app type and its callbacks. Static metadata, valid while the library
 * is loaded.
 */
typedef struct siphon_app_type {
  uint32_t struct_size;
  /* Required: service name, e.g. "duo". */
  const char* service;
  /* Required: log type, e.g. "auth"; the app type is "<service>_<log_type>". */
  const char* log_type;
  /* Required: one-line description. */
  const char* description;
  /* Required: default interval between runs, seconds (> 0). */
  uint32_t default_interval_seconds;
  /* Auth fields and options (arrays of pointers; counts may be 0). The
   * options the host declares for every type (base_url) are not listed. */
  const siphon_auth_field* const* auth_fields;
  uint32_t auth_field_count;
  const siphon_option* const* options;
  uint32_t option_count;

  /*
   * create - makes an instance for one configured app and validates its auth
   * values beyond the regexes (e.g. parses a key file). No network when
   * args->validate_only is set; otherwise the network is still best left to
   * the first poll.
   * Required: yes. Threads: any. Returns: SIPHON_OK, or SIPHON_ERROR with the
   * reason in last_error(*out). *out is set in both cases (NULL only when
   * memory ran out); the host calls destroy on it either way.
   */
  siphon_status (*create)(const siphon_create_args* args, siphon_instance** out);
  /*
   * poll - one call of the gather routine: fetch one page of events.
   * Required: yes. Returns SIPHON_OK with *result filled, or an error status
   * (SIPHON_ERROR, SIPHON_RETRY_LATER, SIPHON_AUTH_REJECTED) with the reason
   * in last_error; on error the host delivers nothing and keeps the cursor.
   */
  siphon_status (*poll)(siphon_instance* instance, const siphon_poll_args* args,
                        siphon_poll_result* result);
  /*
   * sleep_seconds - seconds to wait before the next poll of the same run
   * (vendor pacing). The wait holds no host worker thread. Called right after
   * a successful poll that says more pages wait (the host copies the poll's
   * results first), possibly also when the run then ends (timeout, stop).
   * Required: yes. Arguments: polls made so far in this run (>= 1).
   */
  uint32_t (*sleep_seconds)(siphon_instance* instance, uint32_t polls_done);
  /*
   * last_error - the reason for the instance's last failed call, "" if none.
   * Required: yes. Returns: NUL-terminated UTF-8, owned by the plugin, valid
   * until the next call on the instance. Never contains an auth value.
   */
  const char* (*last_error)(siphon_instance* instance);
  /* destroy - frees the instance. Required: yes. NULL is accepted. */
  void (*destroy)(siphon_instance* instance);

  /* ---- appended in ABI 1.1 (read only when struct_size covers it) ---- */

  /*
   * event_id_field - the name of a top-level member of every event that the
   * vendor sets to a unique id (e.g. Box's "event_id"), or NULL / "" when
   * events carry none. Sinks that recognise a record sent twice (the
   * Elasticsearch _id, later a Kafka key) then derive the record's id from
   * the app and this member's value instead of from the whole event's bytes,
   * so an event the vendor returns again with other bytes is still the same
   * record. An event without the member falls back to the bytes.
   * Required: no. Memory: static, NUL-terminated UTF-8, owned by the plugin.
   */
  const char* event_id_field;
} siphon_app_type;

/* What siphon_plugin_entry returns. Static, valid while the library is loaded. */
typedef struct siphon_plugin {
  /* Required: sizeof(siphon_plugin) as the plugin was compiled. */
  uint32_t struct_size;
  /* Required: SIPHON_ABI_MAJOR and SIPHON_ABI_MINOR the plugin was built with. */
  uint32_t abi_major;
  uint32_t abi_minor;
  /* Required: plugin name and version, e.g. "siphon-duo", "1.0.0". */
  const char* name;
  const char* version;
  /* Required: the app types it provides (at least one). */
  const siphon_app_type* const* app_types;
  uint32_t app_type_count;
} siphon_plugin;

/*
 * The entry symbol. Arguments: the host's ABI version. Returns: the plugin's
 * descriptor, or NULL when the plugin cannot work with that host (the host
 * then refuses it). Called once per load, from the host's main thread; must
 * not start threads or touch the network.
 */
typedef const siphon_plugin* (*siphon_plugin_entry_fn)(uint32_t host_abi_major,
                                                       uint32_t host_abi_minor);

#ifdef __cplusplus
}
#endif

#endif /* SIPHON_PLUGIN_API_H */
