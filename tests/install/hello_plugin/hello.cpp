// A plugin built out of tree against the installed SDK. It needs no vendor:
// each poll makes three events, for three pages, with the page number as the
// cursor, so the test can check loading, paging and delivery.
#include <siphon/sdk.hpp>
#include <string>

class HelloEvents : public siphon::App {
 public:
  static std::string service() { return "hello"; }
  static std::string type() { return "events"; }
  static std::string description() { return "Three pages of greetings"; }
  static siphon::AuthInfo required_auth_info() {
    return {{"token", "any 8 to 32 letters", "^[a-z]{8,32}$", true}};
  }
  explicit HelloEvents(siphon::Context& ctx) : App(ctx) {}

  siphon::Logs gather_logs(const siphon::Cursor& cursor) override {
    int page = cursor.empty() ? 0 : std::stoi(cursor.value);
    siphon::Logs logs;
    if (page >= 3) {
      logs.next_cursor = cursor.value;
      return logs;
    }
    for (int i = 0; i < 3; ++i)
      logs.add("{\"greeting\":\"hello\",\"page\":" + std::to_string(page) +
               ",\"n\":" + std::to_string(i) + "}");
    logs.next_cursor = std::to_string(page + 1);
    logs.more_to_poll = page + 1 < 3;
    return logs;
  }
};

SIPHON_PLUGIN("hello", "1.0.0", HelloEvents)
