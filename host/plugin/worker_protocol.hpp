// The framing between the host and a plugin worker process, over one
// AF_UNIX stream socket: each message is a 4-byte little-endian length, then
// that many bytes: one message-type byte and its fields. Integers are
// little-endian, strings a 4-byte length and their bytes.
//
// kPolled carries: status, error, the events, next cursor, has_more, then the
// newest event time (i64 ms, 0 = unknown) and the duplicates dropped (i64).
//
// host -> worker: kInit (once), then kPoll / kSleep, each answered by
//                 kCreated / kPolled / kSlept. While the worker answers, it
//                 may ask kHttp or kNow (the host replies kHttpReply /
//                 kNowReply) and send kLog (no reply).
// The worker exits when the socket closes.
#ifndef SIPHON_HOST_PLUGIN_WORKER_PROTOCOL_HPP
#define SIPHON_HOST_PLUGIN_WORKER_PROTOCOL_HPP

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace siphon::worker {

enum Message : uint8_t {
  kInit = 1,
  kPoll = 2,
  kSleep = 3,
  kHttpReply = 4,
  kNowReply = 5,
  kCreated = 11,
  kPolled = 12,
  kSlept = 13,
  kHttp = 14,
  kLog = 15,
  kNow = 16,
};

// The file descriptor the worker finds its socket on.
constexpr int kWorkerFd = 3;
// The worker's descriptor of the sealed plugin image the host checked.
constexpr int kImageFd = 4;
// Largest message either side accepts: a page of events (kPolled) or an HTTP
// response body (kHttpReply) may be large; every other message is small.
constexpr uint32_t kMaxFrameBytes = 1024u * 1024u * 1024u;
constexpr uint32_t kMaxControlFrameBytes = 16u * 1024u * 1024u;
// The cap for a message of `type`.
uint32_t max_frame_bytes(uint8_t type);

using Pairs = std::vector<std::pair<std::string, std::string>>;

class Writer {
 public:
  explicit Writer(Message type) { buf_.push_back(static_cast<char>(type)); }
  Writer& u8(uint8_t v);
  Writer& u32(uint32_t v);
  Writer& i32(int32_t v) { return u32(static_cast<uint32_t>(v)); }
  Writer& u64(uint64_t v);
  Writer& i64(int64_t v) { return u64(static_cast<uint64_t>(v)); }
  Writer& str(std::string_view s);
  Writer& pairs(const Pairs& p);
  const std::string& bytes() const { return buf_; }

 private:
  std::string buf_;
};

// Reads fields of one message; a read past the end sets ok() false and
// returns zero values.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : p_(bytes) {}
  uint8_t u8();
  uint32_t u32();
  int32_t i32() { return static_cast<int32_t>(u32()); }
  uint64_t u64();
  int64_t i64() { return static_cast<int64_t>(u64()); }
  std::string_view str();
  Pairs pairs();
  bool ok() const { return ok_; }

 private:
  bool take(size_t n, const char** out);
  std::string_view p_;
  bool ok_ = true;
};

// Sends one message. False when the peer is gone (no SIGPIPE is raised).
bool send_frame(int fd, const std::string& message);

enum class Received { kMessage, kClosed, kGaveUp, kBad };
// Receives one message into `out`. `give_up` (may be empty) is asked every
// 200 ms while nothing arrives; returning true ends the wait with kGaveUp.
// kClosed: the peer closed the socket; kBad: an empty frame, or one larger
// than its type's cap. The buffer grows as the data arrives, never ahead of
// it from what a frame header claims.
Received recv_frame(int fd, std::string& out, const std::function<bool()>& give_up = {});

}  // namespace siphon::worker

#endif
