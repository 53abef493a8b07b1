#include "plugin/worker.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "plugin/app_instance.hpp"
#include "plugin/registry.hpp"
#include "plugin/worker_protocol.hpp"

namespace siphon {
namespace {

using worker::Received;
using worker::Writer;

// Forwards the plugin's host calls over the socket and waits for the answers.
// A host that went away ends the worker.
class Forward : public HostForward {
 public:
  explicit Forward(int fd) : fd_(fd) {}

  siphon_status http(const HttpRequest& request, HttpResponse& response) override {
    worker::Pairs headers(request.headers.begin(), request.headers.end());
    send(Writer(worker::kHttp)
             .str(request.method)
             .str(request.url)
             .pairs(headers)
             .str(request.body));
    std::string reply = expect(worker::kHttpReply);
    worker::Reader r(std::string_view(reply).substr(1));
    siphon_status st = r.i32();
    response.status = r.i32();
    response.headers = r.pairs();
    response.body = std::string(r.str());
    response.error = std::string(r.str());
    if (!r.ok()) lost("a malformed HTTP reply");
    return st;
  }

  void log(int32_t level, const std::string& message) override {
    send(Writer(worker::kLog).i32(level).str(message));
  }

  int64_t now_ms() override {
    send(Writer(worker::kNow));
    std::string reply = expect(worker::kNowReply);
    worker::Reader r(std::string_view(reply).substr(1));
    return r.i64();
  }

  void send(const Writer& w) {
    if (!worker::send_frame(fd_, w.bytes())) lost("the host closed the connection");
  }

  std::string expect(worker::Message type) {
    std::string reply;
    Received got = worker::recv_frame(fd_, reply);
    if (got != Received::kMessage) lost("the host closed the connection");
    if (static_cast<uint8_t>(reply[0]) != type) lost("an unexpected message");
    return reply;
  }

  [[noreturn]] static void lost(const char* why) {
    std::fprintf(stderr, "plugin worker: exiting: %s\n", why);
    std::fflush(stderr);
    ::_exit(3);
  }

 private:
  int fd_;
};

}  // namespace

int run_plugin_worker() {
  // Ends with the host even when the host could not close the socket (it
  // was killed while the plugin is busy): a watchdog notices the new parent.
  // (PR_SET_PDEATHSIG would tie the worker to the host thread that started
  // it rather than to the host process.)
  const pid_t host = ::getppid();
  if (host == 1) return 3;
  std::thread([host] {
    while (::getppid() == host) std::this_thread::sleep_for(std::chrono::milliseconds(500));
    ::_exit(3);
  }).detach();
  const int fd = worker::kWorkerFd;
  Forward forward(fd);
  std::string msg = forward.expect(worker::kInit);
  worker::Reader init(std::string_view(msg).substr(1));
  std::string plugin_file(init.str());
  std::string plugin_sha256(init.str());
  bool plugin_sealed = init.u8() != 0;
  std::string type_name(init.str());
  AppConfig app;
  app.name = std::string(init.str());
  auto auth = init.pairs();
  app.options = init.pairs();
  bool validate_only = init.u8() != 0;
  if (!init.ok()) Forward::lost("a malformed start message");

  PluginRegistry registry;
  std::string why;
  const AppTypeInfo* type = nullptr;
  // Only the image the host checked (owner, mode, pin digest) is loaded,
  // never the file by its path: the file may have been swapped since.
  if (!registry.load_checked(worker::kImageFd, plugin_sealed, plugin_file, plugin_sha256)) {
    why = "the worker cannot load " + plugin_file + ": " + registry.refused().back().reason;
  } else if ((type = registry.find(type_name)) == nullptr) {
    why = "the worker found no app type " + type_name + " in " + plugin_file;
  }
  if (type == nullptr) {
    forward.send(Writer(worker::kCreated).i32(SIPHON_ERROR).str(why));
    return 1;
  }
  // The host redacts what comes back, and enforces the deadline by ending
  // this process; here every call runs to its end on this thread.
  AppInstance instance(*type, app, std::move(auth), nullptr, nullptr, Redactor{});
  instance.forward_to(&forward);
  instance.set_unbounded();
  why = instance.create(validate_only);
  forward.send(Writer(worker::kCreated).i32(why.empty() ? SIPHON_OK : SIPHON_ERROR).str(why));
  if (!why.empty()) return 1;

  for (;;) {
    std::string req;
    Received got = worker::recv_frame(fd, req);
    if (got == Received::kClosed) return 0;
    if (got != Received::kMessage) Forward::lost("an oversized message");
    worker::Reader r(std::string_view(req).substr(1));
    switch (static_cast<uint8_t>(req[0])) {
      case worker::kPoll: {
        std::string cursor(r.str());
        int64_t start_ms = r.i64();
        uint32_t index = r.u32();
        if (!r.ok()) Forward::lost("a malformed poll request");
        PollOutcome out = instance.poll(cursor, start_ms, index);
        Writer w(worker::kPolled);
        w.i32(out.status).str(out.error).u32(static_cast<uint32_t>(out.events.size()));
        for (const auto& e : out.events) w.str(e);
        w.str(out.next_cursor).u8(out.has_more ? 1 : 0);
        w.i64(out.newest_event_time_ms).i64(out.duplicates_dropped);
        forward.send(w);
        break;
      }
      case worker::kSleep: {
        uint32_t polls_done = r.u32();
        forward.send(Writer(worker::kSlept).u32(instance.sleep_seconds(polls_done)));
        break;
      }
      default:
        Forward::lost("an unexpected message");
    }
  }
}

}  // namespace siphon
