/* c_plugin.c - a working plugin written in plain C99 against
 * siphon/plugin_api.h alone, without the C++ SDK, as a plugin in another
 * language would be. App type `cdemo_ticks`: three pages of two events each,
 * the page number as the cursor; no network. The tests build it with gcc (in
 * the tree) and with clang, and load both into the g++-built host. */
#include <siphon/plugin_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGES 3
#define EVENTS_PER_PAGE 2

/* Everything an instance returns lives here until its next call. */
struct siphon_instance {
  const siphon_host_api* api;
  siphon_host* host;
  char error[128];
  char events[256];
  uint64_t offsets[EVENTS_PER_PAGE + 1];
  char cursor[24];
};

static siphon_status cdemo_create(const siphon_create_args* args, siphon_instance** out) {
  siphon_instance* self = calloc(1, sizeof *self);
  uint32_t i = 0;
  size_t k = 0;
  *out = self;
  if (self == NULL) return SIPHON_ERROR;
  self->api = args->host_api;
  self->host = args->host;
  /* Beyond the regex: the token may not be all one letter repeated. */
  for (i = 0; i < args->auth_count; ++i) {
    const char* v = args->auth[i].value;
    if (strcmp(args->auth[i].name, "token") != 0) continue;
    for (k = 1; v[k] != '\0' && v[k] == v[0];) ++k;
    if (v[k] == '\0') {
      snprintf(self->error, sizeof self->error, "token: one letter repeated is no token");
      return SIPHON_ERROR;
    }
  }
  return SIPHON_OK;
}

static siphon_status cdemo_poll(siphon_instance* self, const siphon_poll_args* args,
                                siphon_poll_result* result) {
  long page = 0;
  int i = 0;
  size_t used = 0;
  char line[96];
  if (args->cursor_len > 0) {
    char buf[24] = {0};
    if (args->cursor_len >= sizeof buf) {
      snprintf(self->error, sizeof self->error, "cursor of %llu bytes is not a page number",
               (unsigned long long)args->cursor_len);
      return SIPHON_ERROR;
    }
    memcpy(buf, args->cursor, (size_t)args->cursor_len);
    page = strtol(buf, NULL, 10);
  }
  memset(result, 0, sizeof *result);
  result->struct_size = sizeof *result;
  if (page >= PAGES) {
    /* Nothing new: keep the cursor. */
    snprintf(self->cursor, sizeof self->cursor, "%ld", page);
  } else {
    for (i = 0; i < EVENTS_PER_PAGE; ++i) {
      self->offsets[i] = used;
      used += (size_t)snprintf(self->events + used, sizeof self->events - used,
                               "{\"page\":%ld,\"n\":%d,\"lang\":\"c\"}", page, i);
    }
    self->offsets[EVENTS_PER_PAGE] = used;
    result->events_buf = self->events;
    result->event_offsets = self->offsets;
    result->event_count = EVENTS_PER_PAGE;
    result->has_more = page + 1 < PAGES;
    result->newest_event_time_ms = self->api->now_ms(self->host);
    snprintf(self->cursor, sizeof self->cursor, "%ld", page + 1);
    snprintf(line, sizeof line, "page %ld of %d", page + 1, PAGES);
    self->api->log(self->host, SIPHON_LOG_DEBUG, line);
  }
  result->next_cursor = self->cursor;
  result->next_cursor_len = strlen(self->cursor);
  return SIPHON_OK;
}

static uint32_t cdemo_sleep_seconds(siphon_instance* self, uint32_t polls_done) {
  (void)self;
  (void)polls_done;
  return 0;
}

static const char* cdemo_last_error(siphon_instance* self) { return self ? self->error : ""; }

static void cdemo_destroy(siphon_instance* self) { free(self); }

static const siphon_auth_field token = {
    sizeof(siphon_auth_field), "token", "any 8 to 32 lower-case letters", "^[a-z]{8,32}$", 1, 0};
static const siphon_auth_field* const ticks_auth[] = {&token};

static const siphon_app_type ticks = {sizeof(siphon_app_type),
                                      "cdemo",
                                      "ticks",
                                      "Three pages of two events, from a plugin in C",
                                      300,
                                      ticks_auth,
                                      1,
                                      NULL,
                                      0,
                                      cdemo_create,
                                      cdemo_poll,
                                      cdemo_sleep_seconds,
                                      cdemo_last_error,
                                      cdemo_destroy,
                                      NULL};
static const siphon_app_type* const types[] = {&ticks};

#ifndef CDEMO_NAME
#define CDEMO_NAME "cdemo"
#endif

static const siphon_plugin plugin = {
    sizeof(siphon_plugin), SIPHON_ABI_MAJOR, SIPHON_ABI_MINOR, CDEMO_NAME, "1.0.0", types, 1};

const siphon_plugin* siphon_plugin_entry(uint32_t host_abi_major, uint32_t host_abi_minor) {
  (void)host_abi_minor;
  return host_abi_major == SIPHON_ABI_MAJOR ? &plugin : NULL;
}
