// siphon-fault: a plugin that misbehaves on request, written directly on the
// C ABI (no SDK glue), so that what it does reaches the host unfiltered.
//
// App type fault_events. Each poll returns one page of `page_size` events
// ({"id":"<app>-p<page>-<i>","page":<page>}); the cursor is the number of
// pages delivered. `pages` pages exist (0: a new page at every run). At page
// `fault_page` (while the file `fault_file` exists, when that option is set)
// it does what `fault` says instead:
//   throw         lets a C++ exception escape poll
//   error         returns SIPHON_ERROR with a reason
//   invalid_json  returns the page with one event that is not JSON
//   oversized     returns the page with one event of `oversized_bytes` bytes
//   hang          never returns
//   segv          writes to an unmapped address (SIGSEGV)
// With `chatter: "1"` it logs and writes to stderr a line holding its token.
// Built with SIPHON_FAULT_VARIANT="name" (siphon-fault-variant.so), each event
// also carries "variant":"name": a different file of the same app type.
#include <siphon/plugin_api.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Instance {
  std::string app, fault = "none", fault_file, token;
  int fault_page = 1, pages = 3, page_size = 2;
  size_t oversized_bytes = 2 * 1024 * 1024;
  bool chatter = false;
  const siphon_host_api* api = nullptr;
  siphon_host* host = nullptr;
  std::string error, buf, cursor;
  std::vector<uint64_t> offsets;
};

siphon_status create(const siphon_create_args* args, siphon_instance** out) {
  auto* inst = new Instance;
  *out = reinterpret_cast<siphon_instance*>(inst);
  inst->app = args->app_name;
  inst->api = args->host_api;
  inst->host = args->host;
  for (uint32_t i = 0; i < args->auth_count; ++i)
    if (std::string(args->auth[i].name) == "token") inst->token = args->auth[i].value;
  try {
    for (uint32_t i = 0; i < args->option_count; ++i) {
      std::string k = args->options[i].name, v = args->options[i].value;
      if (k == "fault")
        inst->fault = v;
      else if (k == "fault_file")
        inst->fault_file = v;
      else if (k == "fault_page")
        inst->fault_page = std::stoi(v);
      else if (k == "pages")
        inst->pages = std::stoi(v);
      else if (k == "page_size")
        inst->page_size = std::stoi(v);
      else if (k == "oversized_bytes")
        inst->oversized_bytes = std::stoul(v);
      else if (k == "chatter")
        inst->chatter = v == "1";
    }
  } catch (const std::exception&) {
    inst->error = "options: expected whole numbers";
    return SIPHON_ERROR;
  }
  static const char* kFaults[] = {"none",      "throw", "error", "invalid_json",
                                  "oversized", "hang",  "segv"};
  for (const char* f : kFaults)
    if (inst->fault == f) return SIPHON_OK;
  inst->error = "option fault: unknown fault \"" + inst->fault + "\"";
  return SIPHON_ERROR;
}

void add_event(Instance& inst, const std::string& json) {
  inst.buf += json;
  inst.offsets.push_back(inst.buf.size());
}

siphon_status poll(siphon_instance* handle, const siphon_poll_args* args,
                   siphon_poll_result* result) {
  auto& inst = *reinterpret_cast<Instance*>(handle);
  int page = args->cursor_len ? std::atoi(std::string(args->cursor, args->cursor_len).c_str()) : 0;
  inst.buf.clear();
  inst.offsets.assign(1, 0);
  if (inst.chatter) {
    std::string line =
        "fault plugin polls page " + std::to_string(page) + " with token " + inst.token;
    inst.api->log(inst.host, SIPHON_LOG_WARN, line.c_str());
    std::fprintf(stderr, "%s\n", line.c_str());
    std::fflush(stderr);
  }
  bool more_pages = inst.pages == 0 || page < inst.pages;
  bool armed = page == inst.fault_page &&
               (inst.fault_file.empty() || ::access(inst.fault_file.c_str(), F_OK) == 0);
  std::string fault = armed ? inst.fault : "none";
  if (fault == "throw") throw std::runtime_error("fault plugin: thrown on purpose");
  if (fault == "error") {
    inst.error = "fault plugin: the vendor said no";
    return SIPHON_ERROR;
  }
  if (fault == "hang")
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
  if (fault == "segv") {
    // An unmapped, aligned, non-null address: a real SIGSEGV in every build
    // (a null store would be caught first by UBSan in the sanitizer build).
    int* volatile nowhere = reinterpret_cast<int*>(std::uintptr_t{64});
    *nowhere = 1;
  }
  if (more_pages) {
    for (int i = 0; i < inst.page_size; ++i)
      add_event(inst, "{\"id\":\"" + inst.app + "-p" + std::to_string(page) + "-" +
                          std::to_string(i) + "\",\"page\":" + std::to_string(page) +
#ifdef SIPHON_FAULT_VARIANT
                          ",\"variant\":\"" SIPHON_FAULT_VARIANT "\"" +
#endif
                          "}");
    if (fault == "invalid_json") add_event(inst, "{\"id\": broken");
    if (fault == "oversized")
      add_event(inst, "{\"blob\":\"" + std::string(inst.oversized_bytes, 'x') + "\"}");
    ++page;
  }
  inst.cursor = std::to_string(page);
  result->struct_size = sizeof(siphon_poll_result);
  result->events_buf = inst.buf.data();
  result->event_offsets = inst.offsets.data();
  result->event_count = static_cast<uint32_t>(inst.offsets.size() - 1);
  result->next_cursor = inst.cursor.data();
  result->next_cursor_len = inst.cursor.size();
  result->has_more = inst.pages != 0 && page < inst.pages ? 1 : 0;
  return SIPHON_OK;
}

uint32_t sleep_seconds(siphon_instance*, uint32_t) { return 0; }

const char* last_error(siphon_instance* handle) {
  return handle ? reinterpret_cast<Instance*>(handle)->error.c_str() : "";
}

void destroy(siphon_instance* handle) { delete reinterpret_cast<Instance*>(handle); }

const siphon_auth_field kToken = {sizeof(siphon_auth_field), "token", "Any token", "^.+$", 1, 1};
const siphon_auth_field* const kAuth[] = {&kToken};
const siphon_option kOpt[] = {
    {sizeof(siphon_option), "fault", "none|throw|error|invalid_json|oversized|hang|segv", "none"},
    {sizeof(siphon_option), "fault_page", "page at which the fault hits", "1"},
    {sizeof(siphon_option), "fault_file", "fault only while this file exists", ""},
    {sizeof(siphon_option), "pages", "pages that exist (0: one new page every run)", "3"},
    {sizeof(siphon_option), "page_size", "events a page", "2"},
    {sizeof(siphon_option), "oversized_bytes", "size of the oversized event", "2097152"},
    {sizeof(siphon_option), "chatter", "1: log and print the token", ""},
};
const siphon_option* const kOptions[] = {&kOpt[0], &kOpt[1], &kOpt[2], &kOpt[3],
                                         &kOpt[4], &kOpt[5], &kOpt[6]};

const siphon_app_type kType = {sizeof(siphon_app_type),
                               "fault",
                               "events",
                               "Events from a plugin that misbehaves on request",
                               60,
                               kAuth,
                               1,
                               kOptions,
                               7,
                               create,
                               poll,
                               sleep_seconds,
                               last_error,
                               destroy,
                               nullptr};
const siphon_app_type* const kTypes[] = {&kType};
const siphon_plugin kPlugin = {
    sizeof(siphon_plugin), SIPHON_ABI_MAJOR, SIPHON_ABI_MINOR, "siphon-fault", "1.0.0", kTypes, 1};

}  // namespace

extern "C" __attribute__((visibility("default"))) const siphon_plugin* siphon_plugin_entry(
    uint32_t host_major, uint32_t) {
  return host_major == SIPHON_ABI_MAJOR ? &kPlugin : nullptr;
}
