// The benchmark's events: Box admin_logs events of about 500 bytes, shared by
// the bench imitation and the micro benchmarks so both measure the same data.
#ifndef SIPHON_TESTS_BENCH_EVENTS_HPP
#define SIPHON_TESTS_BENCH_EVENTS_HPP

#include <cstdint>
#include <cstdio>
#include <string>

namespace siphon::bench {

constexpr uint64_t kPositionBase = 1152921504606846976ULL;  // Box-like stream positions
constexpr size_t kMaxLimit = 500;                           // Box's largest page

struct Actor {
  const char* id;
  const char* name;
  const char* login;
};
constexpr Actor kActors[] = {{"11446498", "Ada Admin", "ada@example.com"},
                             {"22553311", "Bo Chen", "bo@example.com"},
                             {"30917742", "Carmen Diaz", "carmen@example.com"},
                             {"41782205", "Dev Patel", "dev@example.com"}};

inline std::string actor_json(const Actor& a) {
  return std::string(R"({"type":"user","id":")") + a.id + R"(","name":")" + a.name +
         R"(","login":")" + a.login + R"("})";
}

// One admin event in the shape of Box's sample, about 500 bytes. The event id
// is 36 characters at a fixed place so that it can be patched per page.
inline std::string make_event(size_t index, const std::string& created_at) {
  const Actor& by = kActors[index % 4];
  const Actor& owner = kActors[(index + 1) % 4];
  static const char* kTypes[] = {"UPLOAD", "DOWNLOAD", "PREVIEW", "COLLABORATION_INVITE",
                                 "ADMIN_LOGIN"};
  char id[40];
  std::snprintf(id, sizeof id, "%08zx-0000-4000-8000-%012zx", index, index);
  std::string item = std::to_string(1234567890 + index);
  return std::string(R"({"type":"event","event_id":")") + id + R"(","created_by":)" +
         actor_json(by) + R"(,"created_at":")" + created_at + R"(","event_type":")" +
         kTypes[index % 5] + R"(","ip_address":"203.0.113.)" + std::to_string(index % 250 + 1) +
         R"(","session_id":null,"source":{"item_type":"file","item_id":")" + item +
         R"(","item_name":"Quarterly plan )" + std::to_string(index % 97) +
         R"(.xlsx","parent":{"type":"folder","name":"Finance","id":"98765"},"owned_by":)" +
         actor_json(owner) + R"(},"additional_details":{"size":)" +
         std::to_string(40000 + index * 37 % 9000) + R"(,"version_id":")" +
         std::to_string(555501 + index) + R"("},"action_by":null})";
}

// A full page as /2.0/events returns it: `count` events from `first` on.
inline std::string make_page(size_t first, size_t count, const std::string& created_at) {
  std::string body = R"({"chunk_size":)" + std::to_string(count) + R"(,"next_stream_position":")" +
                     std::to_string(kPositionBase + first + count) + R"(","entries":[)";
  for (size_t i = 0; i < count; ++i) {
    if (i) body += ',';
    body += make_event(first + i, created_at);
  }
  return body + "]}";
}

}  // namespace siphon::bench

#endif
