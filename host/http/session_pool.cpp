#include "http/session_pool.hpp"

#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Net/SSLManager.h>

namespace siphon {
namespace {

// Idle sessions older than this are closed rather than reused: most servers
// drop idle keep-alive connections after 5 to 60 s.
constexpr auto kMaxIdle = std::chrono::seconds(4);
constexpr size_t kMaxIdlePerOrigin = 16;

}  // namespace

SessionPool::SessionPool(const HttpConfig& config) : config_(config) {
  Poco::Net::initializeSSL();
  tls_ = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, config_.client_key_file,
                                config_.client_cert_file, config_.ca_file,
                                Poco::Net::Context::VERIFY_STRICT, 9, config_.ca_file.empty());
  tls_->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
  Poco::SharedPtr<Poco::Net::InvalidCertificateHandler> reject =
      new Poco::Net::RejectCertificateHandler(false);
  Poco::Net::SSLManager::instance().initializeClient(nullptr, reject, tls_);
}

SessionPool::~SessionPool() = default;

std::unique_ptr<Poco::Net::HTTPClientSession> SessionPool::acquire(const Origin& origin,
                                                                   bool& reused) {
  {
    std::lock_guard lock(mu_);
    auto& list = idle_[origin.key()];
    auto now = std::chrono::steady_clock::now();
    // Oldest first: the idle sessions take turns, so under steady load none
    // of them goes stale and a burst finds them all still usable.
    while (!list.empty()) {
      Idle idle = std::move(list.front());
      list.pop_front();
      if (now - idle.since < kMaxIdle) {
        reused = true;
        return std::move(idle.session);
      }
    }
  }
  reused = false;
  std::unique_ptr<Poco::Net::HTTPClientSession> s;
  if (origin.scheme == "https")
    s = std::make_unique<Poco::Net::HTTPSClientSession>(origin.host, origin.port, tls_);
  else
    s = std::make_unique<Poco::Net::HTTPClientSession>(origin.host, origin.port);
  s->setKeepAlive(true);
  s->setKeepAliveTimeout(Poco::Timespan(std::chrono::seconds(kMaxIdle).count(), 0));
  s->setTimeout(Poco::Timespan(config_.connect_timeout_ms * 1000),
                Poco::Timespan(config_.read_timeout_ms * 1000),
                Poco::Timespan(config_.read_timeout_ms * 1000));
  ++created_;
  return s;
}

void SessionPool::release(const Origin& origin,
                          std::unique_ptr<Poco::Net::HTTPClientSession> session) {
  std::lock_guard lock(mu_);
  auto& list = idle_[origin.key()];
  if (list.size() < kMaxIdlePerOrigin)
    list.push_back({std::move(session), std::chrono::steady_clock::now()});
}

}  // namespace siphon
