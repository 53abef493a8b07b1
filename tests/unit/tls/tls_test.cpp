// The HTTP service's TLS policy against a local HTTPS server with certificates
// made for the test: verified against http.ca_file (or the system store),
// wrong CA and host-name mismatch refused.
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SecureServerSocket.h>
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "http/http_service.hpp"
#include "sink/record.hpp"
#include "sink/sink.hpp"

namespace fs = std::filesystem;

namespace siphon {
namespace {

class Hello : public Poco::Net::HTTPRequestHandler {
 public:
  void handleRequest(Poco::Net::HTTPServerRequest& in,
                     Poco::Net::HTTPServerResponse& out) override {
    if (in.getURI().rfind("/to-http", 0) == 0) {
      // A downgrade: the same host and port, but plain http.
      out.redirect("http://127.0.0.1:" + std::to_string(in.serverAddress().port()) + "/landing",
                   Poco::Net::HTTPResponse::HTTP_FOUND);
      return;
    }
    out.setContentType("application/json");
    out.send() << "{\"ok\":true}";
  }
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new Hello;
  }
};

// Makes a CA, a second unrelated CA, and server certificates signed by the
// first: one for 127.0.0.1, one for another name only.
class Certificates {
 public:
  Certificates() {
    dir_ = fs::temp_directory_path() / ("siphon-tls-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=Siphon-Test-CA "
        "-keyout ca.key -out ca.pem");
    run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=Other-CA "
        "-keyout other-ca.key -out other-ca.pem");
    // Names are chosen so that no check needs a DNS lookup: an exact match,
    // and a wildcard (compared by name only).
    server("local", "127.0.0.1", "subjectAltName=IP:127.0.0.1");
    server("elsewhere", "*.elsewhere.example", "subjectAltName=DNS:*.elsewhere.example");
    // A client certificate from the same CA, for sinks behind mutual TLS.
    // (Poco servers check a client certificate against the peer address too.)
    server("client", "127.0.0.1", "subjectAltName=IP:127.0.0.1");
  }
  ~Certificates() { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

 private:
  void run(const std::string& cmd) {
    std::string full = "cd " + dir_.string() + " && " + cmd + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(full.c_str()), 0) << cmd;
  }
  void server(const std::string& name, const std::string& cn, const std::string& san) {
    run("openssl req -newkey rsa:2048 -nodes -subj '/CN=" + cn + "' -keyout " + name +
        ".key -out " + name + ".csr");
    run("printf '" + san + "\\n' > " + name + ".ext");
    run("openssl x509 -req -in " + name +
        ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
        "-extfile " +
        name + ".ext -out " + name + ".pem");
  }
  fs::path dir_;
};

class HttpsServer {
 public:
  // `max_version` (e.g. TLS1_1_VERSION) caps what the server speaks; 0 = its default.
  // `client_ca`, when set, makes the server require a client certificate from that CA.
  HttpsServer(const std::string& key, const std::string& cert, int max_version = 0,
              const std::string& client_ca = "") {
    Poco::Net::Context::Ptr ctx = new Poco::Net::Context(
        Poco::Net::Context::TLS_SERVER_USE, key, cert, client_ca,
        client_ca.empty() ? Poco::Net::Context::VERIFY_NONE : Poco::Net::Context::VERIFY_STRICT);
    if (max_version != 0) {
      // Security level 0 lets this server really offer the old version.
      SSL_CTX_set_security_level(ctx->sslContext(), 0);
      SSL_CTX_set_min_proto_version(ctx->sslContext(), TLS1_VERSION);
      SSL_CTX_set_max_proto_version(ctx->sslContext(), max_version);
    }
    Poco::Net::SecureServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0), 64, ctx);
    port_ = socket.address().port();
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory, socket,
                                                      new Poco::Net::HTTPServerParams);
    server_->start();
  }
  ~HttpsServer() { server_->stopAll(true); }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_) + "/"; }

 private:
  uint16_t port_ = 0;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

class Tls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { certs_ = new Certificates; }
  static void TearDownTestSuite() { delete certs_; }

  siphon_status get(const std::string& ca_file, const std::string& url, HttpResponse& out) {
    HttpConfig cfg;
    cfg.ca_file = ca_file;
    cfg.max_retries = 0;
    HttpService http(cfg);
    return http.send({"GET", url, {}, ""}, out, nullptr);
  }
  static Certificates* certs_;
};
Certificates* Tls::certs_ = nullptr;

TEST_F(Tls, AServerCertificateFromTheConfiguredCaIsAccepted) {
  HttpsServer server(certs_->path("local.key"), certs_->path("local.pem"));
  HttpResponse r;
  ASSERT_EQ(get(certs_->path("ca.pem"), server.url(), r), SIPHON_OK) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"ok\":true}");
}

TEST_F(Tls, TheSystemStoreDoesNotTrustATestCa) {
  HttpsServer server(certs_->path("local.key"), certs_->path("local.pem"));
  HttpResponse r;
  EXPECT_NE(get("", server.url(), r), SIPHON_OK);
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.error.empty());
}

TEST_F(Tls, AnotherCaIsRefused) {
  HttpsServer server(certs_->path("local.key"), certs_->path("local.pem"));
  HttpResponse r;
  EXPECT_NE(get(certs_->path("other-ca.pem"), server.url(), r), SIPHON_OK);
  EXPECT_EQ(r.status, 0);
}

TEST_F(Tls, ACertificateForAnotherHostNameIsRefused) {
  HttpsServer server(certs_->path("elsewhere.key"), certs_->path("elsewhere.pem"));
  HttpResponse r;
  EXPECT_NE(get(certs_->path("ca.pem"), server.url(), r), SIPHON_OK);
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.error.empty());
}

TEST_F(Tls, AServerOfferingOnlyTls11IsRefusedAndTls12IsAccepted) {
  {
    HttpsServer old(certs_->path("local.key"), certs_->path("local.pem"), TLS1_1_VERSION);
    HttpResponse r;
    EXPECT_NE(get(certs_->path("ca.pem"), old.url(), r), SIPHON_OK);
    EXPECT_EQ(r.status, 0);
    EXPECT_FALSE(r.error.empty());
  }
  HttpsServer current(certs_->path("local.key"), certs_->path("local.pem"), TLS1_2_VERSION);
  HttpResponse r;
  EXPECT_EQ(get(certs_->path("ca.pem"), current.url(), r), SIPHON_OK) << r.error;
}

TEST_F(Tls, ARedirectFromHttpsToHttpIsRefused) {
  HttpsServer server(certs_->path("local.key"), certs_->path("local.pem"));
  HttpResponse r;
  EXPECT_EQ(get(certs_->path("ca.pem"), server.url() + "to-http", r), SIPHON_ERROR);
  EXPECT_NE(r.error.find("refused"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("http://127.0.0.1"), std::string::npos) << r.error;
}

// The http sink's TLS options: ca_file, client_cert and client_key reach the
// host's HTTP stack through the sink's own settings.
class TlsSink : public Tls {
 protected:
  static RecordBatch one_record() {
    RecordBatch batch;
    batch.app = "corp-box";
    std::string why;
    RecordWriter("corp-box", "box_admin_events", "box")
        .append(batch, R"({"event_id":"1"})", "2026-11-27T17:00:00.123Z", why);
    return batch;
  }
  static SinkConfig sink_config(const std::string& url, bool with_client_cert) {
    SinkConfig c;
    c.name = "mtls";
    c.type = "http";
    c.url = url;
    c.ca_file = certs_->path("ca.pem");
    if (with_client_cert) {
      c.client_cert = certs_->path("client.pem");
      c.client_key = certs_->path("client.key");
    }
    return c;
  }
};

TEST_F(TlsSink, TheHttpSinkPresentsItsClientCertificateToAServerThatRequiresOne) {
  HttpsServer server(certs_->path("local.key"), certs_->path("local.pem"), 0,
                     certs_->path("ca.pem"));
  HttpConfig http;
  http.max_retries = 0;
  auto sink = make_sink(sink_config(server.url(), true), http);
  EXPECT_NO_THROW(sink->deliver(one_record()));
}

TEST_F(TlsSink, WithoutAClientCertificateTheDeliveryFailsAndSaysWhy) {
  HttpsServer server(certs_->path("local.key"), certs_->path("local.pem"), 0,
                     certs_->path("ca.pem"));
  HttpConfig http;
  http.max_retries = 0;
  auto sink = make_sink(sink_config(server.url(), false), http);
  try {
    sink->deliver(one_record());
    ADD_FAILURE() << "delivered without the client certificate the server requires";
  } catch (const SinkError& e) {
    EXPECT_NE(std::string(e.what()).find("sink mtls"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace siphon
