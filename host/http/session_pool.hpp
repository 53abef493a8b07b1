// The session pool: idle Poco HTTP(S) client sessions kept per origin
// (scheme, host, port) for keep-alive reuse. One request at a time per
// session: a session is taken out for an exchange and given back only when
// its response body was read to the end. Thread-safe.
#ifndef SIPHON_HOST_HTTP_SESSION_POOL_HPP
#define SIPHON_HOST_HTTP_SESSION_POOL_HPP

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace siphon {

struct Origin {
  std::string scheme;  // http | https
  std::string host;
  uint16_t port = 0;
  std::string key() const { return scheme + "://" + host + ":" + std::to_string(port); }
};

class SessionPool {
 public:
  explicit SessionPool(const HttpConfig& config);
  ~SessionPool();

  // An idle session for the origin, or a new one (`reused` tells which).
  std::unique_ptr<Poco::Net::HTTPClientSession> acquire(const Origin& origin, bool& reused);
  // Gives a session back for reuse (only after a complete exchange).
  void release(const Origin& origin, std::unique_ptr<Poco::Net::HTTPClientSession> session);

  // Sessions created so far (each is one TCP connection, or more after resets).
  size_t sessions_created() const { return created_.load(); }

 private:
  struct Idle {
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    std::chrono::steady_clock::time_point since;
  };
  HttpConfig config_;
  Poco::Net::Context::Ptr tls_;
  std::mutex mu_;
  std::map<std::string, std::deque<Idle>> idle_;
  std::atomic<size_t> created_{0};
};

}  // namespace siphon

#endif
