#include "imitation.hpp"

#include <Poco/InflatingStream.h>
#include <Poco/Net/HTMLForm.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include <chrono>
#include <cstdio>
#include <sstream>
#include <thread>

namespace siphon::imitation {
namespace {

class Handler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit Handler(Imitation& owner) : owner_(owner) {}

  void handleRequest(Poco::Net::HTTPServerRequest& in,
                     Poco::Net::HTTPServerResponse& out) override {
    Request req;
    req.method = in.getMethod();
    Poco::URI uri(in.getURI());
    req.path = uri.getPath();
    req.query = uri.getRawQuery();
    for (const auto& [k, v] : uri.getQueryParameters()) req.params.emplace_back(k, v);
    for (const auto& [k, v] : in) req.headers[Poco::toLower(k)] = v;
    Poco::StreamCopier::copyToString(in.stream(), req.body);
    if (Poco::icompare(req.header("content-type").substr(0, 33),
                       "application/x-www-form-urlencoded") == 0) {
      Poco::URI form("/?" + req.body);
      for (const auto& [k, v] : form.getQueryParameters()) req.params.emplace_back(k, v);
    }
    Reply reply;
    bool truncate = false;
    owner_.serve(req, reply, truncate);
    out.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(reply.status));
    for (const auto& [k, v] : reply.headers) out.add(k, v);  // a repeated name is sent repeated
    out.setContentType(reply.content_type);
    out.setContentLength(static_cast<std::streamsize>(reply.body.size()));
    if (truncate) {
      out.setKeepAlive(false);
      std::ostream& os = out.send();
      os.write(reply.body.data(), static_cast<std::streamsize>(reply.body.size() / 2));
      os.flush();
      return;
    }
    out.sendBuffer(reply.body.data(), reply.body.size());
  }

 private:
  Imitation& owner_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(Imitation& owner) : owner_(owner) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new Handler(owner_);
  }

 private:
  Imitation& owner_;
};

}  // namespace

std::string Request::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::string Request::param(const std::string& name) const {
  for (const auto& [k, v] : params)
    if (k == name) return v;
  return {};
}

bool Request::has_param(const std::string& name) const {
  for (const auto& kv : params)
    if (kv.first == name) return true;
  return false;
}

std::string decoded_body(const Request& request) {
  if (Poco::icompare(request.header("content-encoding"), "gzip") != 0) return request.body;
  std::istringstream in(request.body);
  Poco::InflatingInputStream z(in, Poco::InflatingStreamBuf::STREAM_GZIP);
  std::string out;
  Poco::StreamCopier::copyToString(z, out);
  return out;
}

Imitation::Imitation() = default;

Imitation::~Imitation() { stop(); }

void Imitation::start(uint16_t port) {
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
  port_ = socket.address().port();
  auto* params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(16);
  params->setKeepAlive(true);
  params->setKeepAliveTimeout(Poco::Timespan(10, 0));
  params->setMaxKeepAliveRequests(10000);
  server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), socket, params);
  server_->start();
}

void Imitation::stop() {
  if (server_) {
    server_->stopAll(true);
    server_.reset();
  }
  std::unique_lock lock(active_mu_);
  active_cv_.wait_for(lock, std::chrono::seconds(60), [this] { return active_ == 0; });
}

std::string Imitation::base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void Imitation::inject(const Fault& fault) {
  std::lock_guard lock(mu_);
  faults_.push_back(fault);
}

void Imitation::clear_faults() {
  std::lock_guard lock(mu_);
  faults_.clear();
}

size_t Imitation::requests(const std::string& path_prefix) const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& p : paths_seen_)
    if (p.rfind(path_prefix, 0) == 0) ++n;
  return n;
}

std::vector<Imitation::LoggedRequest> Imitation::request_log() const {
  std::lock_guard lock(mu_);
  return log_;
}

size_t Imitation::connections() const {
  return server_ ? static_cast<size_t>(server_->totalConnections()) : 0;
}

void Imitation::serve(const Request& request, Reply& reply, bool& truncate) {
  {
    std::lock_guard lock(active_mu_);
    ++active_;
  }
  auto steady_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
  struct Done {
    Imitation* self;
    LoggedRequest entry;
    int64_t (*clock)();
    ~Done() {
      entry.end_ms = clock();
      {
        std::lock_guard lock(self->mu_);
        self->log_.push_back(std::move(entry));
      }
      std::lock_guard lock(self->active_mu_);
      --self->active_;
      self->active_cv_.notify_all();
    }
  } done{this, {steady_ms(), 0, request.path, request.header("authorization")}, +steady_ms};
  std::optional<Fault> fault;
  {
    std::lock_guard lock(mu_);
    paths_seen_.push_back(request.path);
    for (auto it = faults_.begin(); it != faults_.end(); ++it) {
      if (request.path.rfind(it->path_prefix, 0) != 0) continue;
      fault = *it;
      if (--it->count <= 0) faults_.erase(it);
      break;
    }
  }
  if (fault && fault->delay_ms > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(fault->delay_ms));
  if (fault && fault->status != 0) {
    reply.status = fault->status;
    if (!fault->retry_after.empty()) reply.headers.emplace_back("Retry-After", fault->retry_after);
    reply.body = fault->body;
    if (!fault->content_type.empty()) reply.content_type = fault->content_type;
    for (const auto& h : fault->headers) reply.headers.push_back(h);
    return;
  }
  handle(request, reply);
  if (fault)
    for (const auto& h : fault->headers) {  // replaces the handler's header of that name
      std::erase_if(reply.headers,
                    [&](const auto& own) { return Poco::icompare(own.first, h.first) == 0; });
      reply.headers.push_back(h);
    }
  truncate = fault && fault->truncate;
}

void PageFaults::arm(int pages_served, const Fault& fault) {
  fault_after_ = pages_served;
  fault_ = fault;
  pages_served_ = 0;
}

bool PageFaults::strike(std::unique_lock<std::mutex>& lock, Reply& reply) {
  if (fault_after_ < 0 || pages_served_ < fault_after_ || fault_.count <= 0) return false;
  Fault f = fault_;
  if (--fault_.count <= 0) fault_after_ = -1;
  if (f.delay_ms > 0) {
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(f.delay_ms));
    lock.lock();
  }
  if (f.status == 0) return false;
  reply.status = f.status;
  reply.body = f.body;
  if (!f.retry_after.empty()) reply.headers.emplace_back("Retry-After", f.retry_after);
  return true;
}

std::string json_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 2);
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace siphon::imitation
