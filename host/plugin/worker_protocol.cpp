#include "plugin/worker_protocol.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace siphon::worker {

Writer& Writer::u8(uint8_t v) {
  buf_.push_back(static_cast<char>(v));
  return *this;
}

Writer& Writer::u32(uint32_t v) {
  for (int i = 0; i < 4; ++i) buf_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return *this;
}

Writer& Writer::u64(uint64_t v) {
  for (int i = 0; i < 8; ++i) buf_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return *this;
}

Writer& Writer::str(std::string_view s) {
  u32(static_cast<uint32_t>(s.size()));
  buf_.append(s.data(), s.size());
  return *this;
}

Writer& Writer::pairs(const Pairs& p) {
  u32(static_cast<uint32_t>(p.size()));
  for (const auto& [k, v] : p) str(k).str(v);
  return *this;
}

bool Reader::take(size_t n, const char** out) {
  if (!ok_ || p_.size() < n) {
    ok_ = false;
    return false;
  }
  *out = p_.data();
  p_.remove_prefix(n);
  return true;
}

uint8_t Reader::u8() {
  const char* d;
  return take(1, &d) ? static_cast<uint8_t>(d[0]) : 0;
}

uint32_t Reader::u32() {
  const char* d;
  if (!take(4, &d)) return 0;
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(d[i])) << (8 * i);
  return v;
}

uint64_t Reader::u64() {
  const char* d;
  if (!take(8, &d)) return 0;
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(d[i])) << (8 * i);
  return v;
}

std::string_view Reader::str() {
  uint32_t n = u32();
  const char* d;
  if (!take(n, &d)) return {};
  return {d, n};
}

Pairs Reader::pairs() {
  Pairs out;
  uint32_t n = u32();
  for (uint32_t i = 0; i < n && ok_; ++i) {
    std::string k(str());
    std::string v(str());
    out.emplace_back(std::move(k), std::move(v));
  }
  return out;
}

bool send_frame(int fd, const std::string& message) {
  std::string frame;
  frame.reserve(message.size() + 4);
  uint32_t n = static_cast<uint32_t>(message.size());
  for (int i = 0; i < 4; ++i) frame.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  frame += message;
  size_t off = 0;
  while (off < frame.size()) {
    ssize_t w = ::send(fd, frame.data() + off, frame.size() - off, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    off += static_cast<size_t>(w);
  }
  return true;
}

namespace {

// Reads exactly n bytes. kMessage when done.
Received read_exact(int fd, char* out, size_t n, const std::function<bool()>& give_up) {
  size_t got = 0;
  while (got < n) {
    if (give_up) {
      pollfd p{fd, POLLIN, 0};
      int r = ::poll(&p, 1, 200);
      if (r < 0 && errno != EINTR) return Received::kClosed;
      if (r <= 0) {
        if (give_up()) return Received::kGaveUp;
        continue;
      }
    }
    ssize_t r = ::recv(fd, out + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return Received::kClosed;
    got += static_cast<size_t>(r);
  }
  return Received::kMessage;
}

}  // namespace

uint32_t max_frame_bytes(uint8_t type) {
  return type == kPolled || type == kHttpReply ? kMaxFrameBytes : kMaxControlFrameBytes;
}

Received recv_frame(int fd, std::string& out, const std::function<bool()>& give_up) {
  char len[4];
  Received r = read_exact(fd, len, 4, give_up);
  if (r != Received::kMessage) return r;
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n |= static_cast<uint32_t>(static_cast<uint8_t>(len[i])) << (8 * i);
  if (n == 0 || n > kMaxFrameBytes) return Received::kBad;
  out.clear();
  out.resize(1);
  r = read_exact(fd, out.data(), 1, give_up);
  if (r != Received::kMessage) return r;
  if (n > max_frame_bytes(static_cast<uint8_t>(out[0]))) return Received::kBad;
  // Grows by what arrived, at most 1 MiB at a time.
  constexpr size_t kChunk = 1024 * 1024;
  while (out.size() < n) {
    size_t at = out.size();
    size_t take = std::min<size_t>(kChunk, n - at);
    out.resize(at + take);
    r = read_exact(fd, out.data() + at, take, give_up);
    if (r != Received::kMessage) return r;
  }
  return Received::kMessage;
}

}  // namespace siphon::worker
