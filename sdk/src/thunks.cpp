// The noexcept glue between the C ABI and App classes: every exception stops
// here and becomes a status plus last_error.
#include <siphon/sdk.hpp>

namespace siphon::detail {

void fill_type(TypeStorage& t, uint32_t default_interval_seconds) {
  t.auth_c.clear();
  for (const auto& f : t.auth) {
    siphon_auth_field c{};
    c.struct_size = sizeof(c);
    c.name = f.name.c_str();
    c.description = f.description.c_str();
    c.regex = f.regex.c_str();
    c.is_secret = f.secret ? 1 : 0;
    c.is_optional = f.optional ? 1 : 0;
    t.auth_c.push_back(c);
  }
  t.auth_ptrs.clear();
  for (const auto& c : t.auth_c) t.auth_ptrs.push_back(&c);
  t.options_c.clear();
  for (const auto& o : t.options) {
    siphon_option c{};
    c.struct_size = sizeof(c);
    c.name = o.name.c_str();
    c.description = o.description.c_str();
    c.default_value = o.default_value.c_str();
    t.options_c.push_back(c);
  }
  t.option_ptrs.clear();
  for (const auto& c : t.options_c) t.option_ptrs.push_back(&c);
  t.c.struct_size = sizeof(siphon_app_type);
  t.c.service = t.service.c_str();
  t.c.log_type = t.log_type.c_str();
  t.c.description = t.description.c_str();
  t.c.default_interval_seconds = default_interval_seconds;
  t.c.event_id_field = t.event_id_field.empty() ? nullptr : t.event_id_field.c_str();
  t.c.auth_fields = t.auth_ptrs.data();
  t.c.auth_field_count = static_cast<uint32_t>(t.auth_ptrs.size());
  t.c.options = t.option_ptrs.data();
  t.c.option_count = static_cast<uint32_t>(t.option_ptrs.size());
}

siphon_status fail(Instance* inst, const std::exception* e) {
  siphon_status status = SIPHON_ERROR;
  try {
    if (auto* se = dynamic_cast<const Error*>(e)) status = se->status();
    inst->last_error = e ? e->what() : "unknown exception";
  } catch (...) {
    status = SIPHON_ERROR;
  }
  return status;
}

siphon_status poll_app(Instance* inst, const siphon_poll_args* args, siphon_poll_result* result) {
  if (inst == nullptr || !inst->app) return SIPHON_ERROR;
  try {
    inst->last_error.clear();
    Cursor cursor;
    if (args->cursor && args->cursor_len) cursor.value.assign(args->cursor, args->cursor_len);
    cursor.start_time_ms = args->start_time_ms;
    cursor.poll_index = args->poll_index;
    inst->last = inst->app->gather_logs(cursor);
    if (inst->last.next_cursor.size() > SIPHON_MAX_CURSOR_BYTES)
      throw Error("next cursor is " + std::to_string(inst->last.next_cursor.size()) +
                  " bytes, over the limit of " + std::to_string(SIPHON_MAX_CURSOR_BYTES));
    *result = siphon_poll_result{};
    result->struct_size = sizeof(siphon_poll_result);
    result->events_buf = inst->last.buffer().data();
    result->event_offsets = inst->last.offsets().data();
    result->event_count = static_cast<uint32_t>(inst->last.size());
    result->next_cursor = inst->last.next_cursor.data();
    result->next_cursor_len = inst->last.next_cursor.size();
    result->has_more = inst->last.more_to_poll ? 1 : 0;
    result->newest_event_time_ms = inst->last.newest_event_time_ms;
    result->duplicates_dropped = inst->last.duplicates_dropped;
    return SIPHON_OK;
  } catch (const std::exception& e) {
    return fail(inst, &e);
  } catch (...) {
    return fail(inst, nullptr);
  }
}

uint32_t sleep_app(Instance* inst, uint32_t polls_done) {
  try {
    return inst && inst->app ? inst->app->sleep_seconds(polls_done) : 0;
  } catch (...) {
    return 0;
  }
}

const char* last_error(Instance* inst) { return inst ? inst->last_error.c_str() : ""; }

void destroy(Instance* inst) { delete inst; }

}  // namespace siphon::detail
