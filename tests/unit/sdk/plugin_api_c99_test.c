/* Compiles siphon/plugin_api.h as strict C99 and fills a minimal plugin
 * descriptor the way a plugin written in C would. main returns 0 when the
 * SIPHON_HAS_MEMBER checks agree with the struct sizes. */
#include <siphon/plugin_api.h>
#include <string.h>

static siphon_status demo_create(const siphon_create_args* args, siphon_instance** out) {
  (void)args;
  *out = NULL;
  return SIPHON_ERROR;
}

static siphon_status demo_poll(siphon_instance* instance, const siphon_poll_args* args,
                               siphon_poll_result* result) {
  (void)instance;
  (void)args;
  memset(result, 0, sizeof(*result));
  result->struct_size = (uint32_t)sizeof(*result);
  return SIPHON_OK;
}

static uint32_t demo_sleep_seconds(siphon_instance* instance, uint32_t polls_done) {
  (void)instance;
  (void)polls_done;
  return 0;
}

static const char* demo_last_error(siphon_instance* instance) {
  (void)instance;
  return "";
}

static void demo_destroy(siphon_instance* instance) { (void)instance; }

static const siphon_auth_field kToken = {sizeof(siphon_auth_field), "token", "API token",
                                         "^[A-Za-z0-9]{32}$",       1,       0};
static const siphon_auth_field* const kAuthFields[] = {&kToken};

static const siphon_option kBaseUrl = {sizeof(siphon_option), "base_url", "API base URL", ""};
static const siphon_option* const kOptions[] = {&kBaseUrl};

static const siphon_app_type kDemoEvents = {sizeof(siphon_app_type),
                                            "demo",
                                            "events",
                                            "Demo events",
                                            300,
                                            kAuthFields,
                                            1,
                                            kOptions,
                                            1,
                                            demo_create,
                                            demo_poll,
                                            demo_sleep_seconds,
                                            demo_last_error,
                                            demo_destroy,
                                            "id"};
static const siphon_app_type* const kAppTypes[] = {&kDemoEvents};

static const siphon_plugin kPlugin = {sizeof(siphon_plugin),
                                      SIPHON_ABI_MAJOR,
                                      SIPHON_ABI_MINOR,
                                      "siphon-demo",
                                      "1.0.0",
                                      kAppTypes,
                                      1};

const siphon_plugin* siphon_plugin_entry(uint32_t host_abi_major, uint32_t host_abi_minor);

const siphon_plugin* siphon_plugin_entry(uint32_t host_abi_major, uint32_t host_abi_minor) {
  (void)host_abi_minor;
  return host_abi_major == SIPHON_ABI_MAJOR ? &kPlugin : NULL;
}

int main(void) {
  int failures = 0;
  siphon_plugin_entry_fn entry = siphon_plugin_entry;
  const siphon_plugin* plugin = entry(SIPHON_ABI_MAJOR, SIPHON_ABI_MINOR);
  const siphon_app_type* app = NULL;
  siphon_poll_result result;

  if (plugin == NULL || entry(SIPHON_ABI_MAJOR + 1, 0) != NULL) return 1;
  app = plugin->app_types[0];

  /* A full-size struct holds every member, the last one included. */
  failures += !SIPHON_HAS_MEMBER(siphon_plugin, app_type_count, plugin->struct_size);
  failures += !SIPHON_HAS_MEMBER(siphon_app_type, destroy, app->struct_size);
  failures += !SIPHON_HAS_MEMBER(siphon_auth_field, is_optional, app->auth_fields[0]->struct_size);
  failures += !SIPHON_HAS_MEMBER(siphon_host_api, now_ms, sizeof(siphon_host_api));
  /* A struct cut short before a member (as an older party would send it)
   * does not hold that member, but still holds the ones before it. */
  failures += SIPHON_HAS_MEMBER(siphon_app_type, destroy, offsetof(siphon_app_type, destroy));
  failures += !SIPHON_HAS_MEMBER(siphon_app_type, last_error, offsetof(siphon_app_type, destroy));
  failures += SIPHON_HAS_MEMBER(siphon_host_api, now_ms, offsetof(siphon_host_api, now_ms));
  failures += !SIPHON_HAS_MEMBER(siphon_http_request, method,
                                 offsetof(siphon_http_request, method) + sizeof(const char*));

  /* Every growable struct starts with struct_size. */
  failures += offsetof(siphon_plugin, struct_size) != 0;
  failures += offsetof(siphon_poll_result, struct_size) != 0;
  /* A poll result as an ABI 1.0 plugin fills it ends at has_more: the 1.1
   * members are not there, and are once the size covers them. */
  failures += SIPHON_HAS_MEMBER(siphon_poll_result, newest_event_time_ms,
                                offsetof(siphon_poll_result, has_more) + sizeof(int32_t));
  failures += !SIPHON_HAS_MEMBER(siphon_poll_result, newest_event_time_ms,
                                 offsetof(siphon_poll_result, newest_event_time_ms) + 8);
  failures += SIPHON_HAS_MEMBER(siphon_poll_result, duplicates_dropped,
                                offsetof(siphon_poll_result, duplicates_dropped));
  failures +=
      offsetof(siphon_poll_result, newest_event_time_ms) < offsetof(siphon_poll_result, has_more);

  failures += app->poll(NULL, NULL, &result) != SIPHON_OK;
  failures += result.struct_size != sizeof(siphon_poll_result);
  failures += strcmp(app->service, "demo") != 0;
  failures += app->last_error(NULL)[0] != '\0';
  app->destroy(NULL);
  return failures == 0 ? 0 : 1;
}
