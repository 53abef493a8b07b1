#include "metrics/metrics_server.hpp"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <stdexcept>

#include "util/clock.hpp"

namespace siphon {
namespace {

using Poco::Net::HTTPResponse;

class Handler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit Handler(Metrics& metrics) : metrics_(metrics) {}
  void handleRequest(Poco::Net::HTTPServerRequest& req,
                     Poco::Net::HTTPServerResponse& resp) override {
    std::string path = req.getURI();
    if (auto q = path.find('?'); q != std::string::npos) path.resize(q);
    std::string body, type = "text/plain; charset=utf-8";
    HTTPResponse::HTTPStatus status = HTTPResponse::HTTP_OK;
    if (req.getMethod() != "GET" && req.getMethod() != "HEAD") {
      status = HTTPResponse::HTTP_METHOD_NOT_ALLOWED;
      body = "only GET\n";
      resp.set("Allow", "GET, HEAD");
    } else if (path == "/metrics") {
      body = metrics_.exposition(now_ms());
      type = "text/plain; version=0.0.4; charset=utf-8";
    } else if (path == "/health") {
      Health h = metrics_.health(now_ms());
      status = h.ok ? HTTPResponse::HTTP_OK : HTTPResponse::HTTP_SERVICE_UNAVAILABLE;
      body = h.json + "\n";
      type = "application/json";
    } else {
      status = HTTPResponse::HTTP_NOT_FOUND;
      body = "not found: try /metrics or /health\n";
    }
    resp.setStatus(status);
    resp.setContentType(type);
    resp.set("Cache-Control", "no-store");
    resp.setContentLength(static_cast<std::streamsize>(body.size()));
    std::ostream& out = resp.send();
    if (req.getMethod() != "HEAD")
      out.write(body.data(), static_cast<std::streamsize>(body.size()));
  }

 private:
  Metrics& metrics_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(Metrics& metrics) : metrics_(metrics) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new Handler(metrics_);
  }

 private:
  Metrics& metrics_;
};

}  // namespace

MetricsServer::MetricsServer(Metrics& metrics, const std::string& listen) {
  try {
    // SO_REUSEADDR (a restart need not wait out TIME_WAIT) but not
    // SO_REUSEPORT: a second process must not share the port unnoticed.
    Poco::Net::ServerSocket socket;
    socket.bind(Poco::Net::SocketAddress(listen), true, false);
    socket.listen(64);
    address_ = socket.address().toString();
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(2);
    params->setMaxQueued(16);
    params->setKeepAlive(true);
    params->setTimeout(Poco::Timespan(10, 0));
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(metrics), socket, params);
    server_->start();
  } catch (const Poco::Exception& e) {
    throw std::runtime_error("http.listen " + listen +
                             ": cannot serve metrics: " + e.displayText());
  }
}

MetricsServer::~MetricsServer() {
  if (server_) server_->stopAll(true);
}

}  // namespace siphon
