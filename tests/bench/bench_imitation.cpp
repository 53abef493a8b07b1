// siphon-bench-imitation: a fast local imitation of Box's admin_logs stream
// for scripts/bench, on 127.0.0.1 only.
//
// The token endpoint is the real Box imitation (JWT bearer grant, signature
// and claims checked); GET /2.0/events serves pages of up to 500 ~500-byte
// events built once at start, so that serving a page costs a copy and not
// the building of it. N events are served in order, then empty pages:
//   - no stream_position: created_after at or before the events' time
//     starts at the first event, a later one at the end of the stream;
//   - stream_position: the count of events before it, plus Box's base.
// Events carry unique ids; the entry texts repeat every few pages.
//
// It prints one JSON line on start:
//   {"port":P,"base_url":"http://127.0.0.1:P","token":"<bearer for the ceiling program>"}
// and writes the app's config.json to --keyfile. On standard input it takes
// commands, each answered by one JSON line on standard output:
//   stats   {"token_requests":..,"data_requests":..,"connections":..,"bytes":..,"cpu_s":..}
//   quit    stops.
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "bench_events.hpp"
#include "box_imitation.hpp"

using siphon::bench::kMaxLimit;
using siphon::bench::kPositionBase;
using siphon::bench::make_event;
using siphon::imitation::BoxImitation;
using siphon::imitation::Reply;
using siphon::imitation::Request;

namespace {

double cpu_seconds();

constexpr size_t kDistinctPages = 8;  // entry texts repeat with this period (in pages)

class BenchImitation : public BoxImitation {
 public:
  BenchImitation(Credentials credentials, size_t events)
      : BoxImitation(std::move(credentials)), total_(events) {
    std::time_t t = std::time(nullptr) - 6 * 3600;  // six hours ago
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S-00:00", &tm);
    events_time_s_ = static_cast<int64_t>(t);
    for (size_t p = 0; p < kDistinctPages; ++p) {
      std::string& block = blocks_.emplace_back();
      for (size_t i = 0; i < kMaxLimit; ++i) {
        if (i) block += ',';
        block += make_event(p * kMaxLimit + i, buf);
      }
    }
  }

  // A bearer token that /2.0/events accepts (for the ceiling program).
  std::string ceiling_token() {
    std::lock_guard lock(mu_);
    tokens_.insert("bench-ceiling-token-0123456789abcdef");
    return "bench-ceiling-token-0123456789abcdef";
  }

  std::string stats() const {
    return "{\"token_requests\":" + std::to_string(token_requests_.load()) +
           ",\"data_requests\":" + std::to_string(data_requests_.load()) +
           ",\"connections\":" + std::to_string(connections()) +
           ",\"bytes\":" + std::to_string(bytes_.load()) +
           ",\"cpu_s\":" + std::to_string(cpu_seconds()) + "}";
  }

 protected:
  void handle(const Request& request, Reply& reply) override {
    if (request.path == "/oauth2/token") {
      ++token_requests_;
      BoxImitation::handle(request, reply);
      const std::string key = R"("access_token":")";
      size_t at = reply.body.find(key);
      if (reply.status == 200 && at != std::string::npos) {
        at += key.size();
        std::lock_guard lock(mu_);
        tokens_.insert(reply.body.substr(at, reply.body.find('"', at) - at));
      }
      return;
    }
    if (request.path != "/2.0/events") return BoxImitation::handle(request, reply);
    ++data_requests_;
    const std::string auth = request.header("authorization");
    {
      std::lock_guard lock(mu_);
      if (auth.rfind("Bearer ", 0) != 0 || !tokens_.count(auth.substr(7))) {
        reply.status = 401;
        reply.headers.emplace_back("WWW-Authenticate",
                                   R"(Bearer realm="Service", error="invalid_token")");
        return;
      }
    }
    if (request.param("stream_type") != "admin_logs") {
      reply.status = 400;
      reply.body = R"({"type":"error","status":400,"code":"bad_request","message":"stream_type"})";
      return;
    }
    size_t limit = 100;
    if (request.has_param("limit")) limit = std::stoul("0" + request.param("limit"));
    if (limit == 0) limit = 100;
    limit = std::min(limit, kMaxLimit);
    size_t start = 0;
    if (request.has_param("stream_position")) {
      const std::string text = request.param("stream_position");
      uint64_t value = text == "now" ? kPositionBase + total_ : std::strtoull(text.c_str(), 0, 10);
      start = value < kPositionBase ? 0 : std::min<size_t>(value - kPositionBase, total_);
    } else if (request.has_param("created_after")) {
      // Compares the leading "YYYY-MM-DDTHH:MM:SS" of an RFC 3339 time; the
      // offset is taken as UTC, which is close enough to pick start or end.
      std::tm tm{};
      const std::string text = request.param("created_after");
      if (strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) {
        reply.status = 400;
        reply.body = R"({"type":"error","status":400,"code":"bad_request"})";
        return;
      }
      start = timegm(&tm) <= events_time_s_ ? 0 : total_;
    }
    size_t count = std::min(limit, total_ - start);
    std::string& body = reply.body;
    body = R"({"chunk_size":)" + std::to_string(count) + R"(,"next_stream_position":")" +
           std::to_string(kPositionBase + start + count) + R"(","entries":[)";
    if (count > 0) {
      const std::string& block = blocks_[(start / kMaxLimit) % kDistinctPages];
      // A full page is the block as built; a short one is cut after `count` events.
      size_t cut = block.size();
      if (count < kMaxLimit) {
        cut = 0;
        for (size_t i = 0; i < count; ++i) cut = block.find(R"({"type":"event")", cut + 1);
        cut = cut == std::string::npos ? block.size() : cut - 1;
      }
      size_t from = body.size();
      body.append(block, 0, cut);
      patch_ids(body, from, start);
    }
    body += "]}";
    bytes_ += body.size();
  }

 private:
  // Rewrites each event_id in body[from..] to a unique one for stream index
  // start + i, keeping its length.
  static void patch_ids(std::string& body, size_t from, size_t start) {
    static const std::string key = R"("event_id":")";
    size_t at = from, i = 0;
    char id[40];
    while ((at = body.find(key, at)) != std::string::npos) {
      at += key.size();
      std::snprintf(id, sizeof id, "%08zx-0000-4000-8000-%012zx", (start + i) & 0xffffffff,
                    start + i);
      std::memcpy(&body[at], id, 36);
      ++i;
    }
  }

  const size_t total_;
  int64_t events_time_s_ = 0;
  std::vector<std::string> blocks_;
  std::mutex mu_;
  std::set<std::string> tokens_;
  std::atomic<size_t> token_requests_{0}, data_requests_{0}, bytes_{0};
};

// CPU seconds (user + system) this process has used.
double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int usage() {
  std::fprintf(stderr,
               "usage: siphon-bench-imitation --keyfile PATH --events N [--port P]\n"
               "Serves N Box admin_logs events on 127.0.0.1 for scripts/bench.\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string keyfile;
  long long events = -1;
  int port = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (value == nullptr) return usage();
    if (a == "--keyfile")
      keyfile = value;
    else if (a == "--events")
      events = std::atoll(value);
    else if (a == "--port")
      port = std::atoi(value);
    else
      return usage();
    ++i;
  }
  if (keyfile.empty() || events < 0 || port < 0 || port > 65535) return usage();
  signal(SIGPIPE, SIG_IGN);
  auto kf = BoxImitation::make_keyfile();
  {
    std::ofstream out(keyfile, std::ios::trunc);
    out << kf.json << "\n";
    if (!out) {
      std::fprintf(stderr, "siphon-bench-imitation: cannot write %s\n", keyfile.c_str());
      return 1;
    }
  }
  ::chmod(keyfile.c_str(), 0600);
  BenchImitation imitation(kf.credentials, static_cast<size_t>(events));
  imitation.start(static_cast<uint16_t>(port));
  std::cout << "{\"port\":" << imitation.port() << ",\"base_url\":\"" << imitation.base_url()
            << "\",\"token\":\"" << imitation.ceiling_token() << "\"}" << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line == "stats")
      std::cout << imitation.stats() << std::endl;
    else if (line == "quit")
      break;
    else
      std::cout << "{\"error\":\"unknown command\"}" << std::endl;
  }
  imitation.stop();
  return 0;
}
