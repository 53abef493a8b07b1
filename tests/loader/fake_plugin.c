/* fake_plugin.c - the fake plugins of the loader test, written in C99 as a
 * plugin in another language would be. One file, built once per variant:
 * without a FAKE_* definition it is a good plugin with two app types; each
 * FAKE_* definition breaks exactly one rule of siphon/plugin_api.h. */
#include <siphon/plugin_api.h>
#include <stddef.h>

#ifdef FAKE_NO_ENTRY
/* A library that exports something, but not the entry symbol. */
int fake_not_an_entry(void) { return 42; }
#else

static siphon_status fake_create(const siphon_create_args* args, siphon_instance** out) {
  (void)args;
  *out = NULL;
  return SIPHON_ERROR;
}

static siphon_status fake_poll(siphon_instance* instance, const siphon_poll_args* args,
                               siphon_poll_result* result) {
  (void)instance;
  (void)args;
  (void)result;
  return SIPHON_ERROR;
}

static uint32_t fake_sleep_seconds(siphon_instance* instance, uint32_t polls_done) {
  (void)instance;
  (void)polls_done;
  return 0;
}

static const char* fake_last_error(siphon_instance* instance) {
  (void)instance;
  return "fake plugins do not poll";
}

static void fake_destroy(siphon_instance* instance) { (void)instance; }

#ifdef FAKE_BAD_REGEX
#define FAKE_KEY_REGEX "^([a-z0-9]{8}$"
#else
#define FAKE_KEY_REGEX "^[a-z0-9]{8}$"
#endif

static const siphon_auth_field api_key = {
    sizeof(siphon_auth_field), "api_key", "API key of the fake service", FAKE_KEY_REGEX, 1, 0};
static const siphon_auth_field region = {
    sizeof(siphon_auth_field), "region", "Region of the account", "^(us|eu)$", 0, 1};
static const siphon_auth_field* const alpha_auth[] = {&api_key, &region};

static const siphon_option page_size = {sizeof(siphon_option), "page_size", "Events per page",
                                        "100"};
static const siphon_option* const alpha_options[] = {&page_size};

#ifdef FAKE_SHORT_STRUCT
/* Built by a plugin that stops before the callbacks. */
#define FAKE_ALPHA_SIZE ((uint32_t)offsetof(siphon_app_type, poll))
#elif defined(FAKE_ABI_1_0)
/* Built against ABI 1.0: the struct ends before event_id_field, whatever
   follows it in memory. */
#define FAKE_ALPHA_SIZE ((uint32_t)offsetof(siphon_app_type, event_id_field))
#else
#define FAKE_ALPHA_SIZE ((uint32_t)sizeof(siphon_app_type))
#endif

#ifdef FAKE_NULL_POLL
#define FAKE_POLL NULL
#else
#define FAKE_POLL fake_poll
#endif

static const siphon_app_type alpha = {FAKE_ALPHA_SIZE,
                                      "fake",
                                      "alpha",
                                      "Alpha events of the fake service",
                                      600,
                                      alpha_auth,
                                      2,
                                      alpha_options,
                                      1,
                                      fake_create,
                                      FAKE_POLL,
                                      fake_sleep_seconds,
                                      fake_last_error,
                                      fake_destroy,
                                      "alpha_id"};

#ifndef FAKE_TYPE_TAKEN
#ifdef FAKE_DUP_IN_FILE
#define FAKE_BETA_LOG_TYPE "alpha"
#else
#define FAKE_BETA_LOG_TYPE "beta"
#endif

static const siphon_app_type beta = {sizeof(siphon_app_type),
                                     "fake",
                                     FAKE_BETA_LOG_TYPE,
                                     "Beta events of the fake service",
                                     60,
                                     NULL,
                                     0,
                                     NULL,
                                     0,
                                     fake_create,
                                     fake_poll,
                                     fake_sleep_seconds,
                                     fake_last_error,
                                     fake_destroy,
                                     NULL};
#endif

#ifdef FAKE_TYPE_TAKEN
/* Only an app type that the good plugin already provides. */
static const siphon_app_type* const types[] = {&alpha};
#define FAKE_TYPE_COUNT 1
#else
static const siphon_app_type* const types[] = {&alpha, &beta};
#define FAKE_TYPE_COUNT 2
#endif

#if defined(FAKE_WRONG_MAJOR)
#define FAKE_MAJOR (SIPHON_ABI_MAJOR + 1)
#else
#define FAKE_MAJOR SIPHON_ABI_MAJOR
#endif

#if defined(FAKE_NEWER_MINOR)
#define FAKE_MINOR (SIPHON_ABI_MINOR + 1)
#elif defined(FAKE_ABI_1_0)
#define FAKE_MINOR 0
#else
#define FAKE_MINOR SIPHON_ABI_MINOR
#endif

#ifndef FAKE_NAME
#define FAKE_NAME "fake-good"
#endif

static const siphon_plugin plugin = {
    sizeof(siphon_plugin), FAKE_MAJOR, FAKE_MINOR, FAKE_NAME, "0.1.0", types, FAKE_TYPE_COUNT};

const siphon_plugin* siphon_plugin_entry(uint32_t host_abi_major, uint32_t host_abi_minor) {
  (void)host_abi_major;
  (void)host_abi_minor;
#ifdef FAKE_ENTRY_NULL
  /* Refuses every host (the descriptor stays unused). */
  return host_abi_major != 0 ? NULL : &plugin;
#else
  return &plugin;
#endif
}

#endif /* FAKE_NO_ENTRY */
