// imitation_client.hpp - a plain HTTP client for the tests of an imitation
// itself: one request to 127.0.0.1:<port>, its whole answer read back.
#ifndef SIPHON_TESTS_IMITATION_CLIENT_HPP
#define SIPHON_TESTS_IMITATION_CLIENT_HPP

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace siphon::imitation {

// What an imitation answered: status, body and headers (as sent).
struct HttpAnswer {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
  std::vector<std::pair<std::string, std::string>> header_lines;  // every header, repeats kept

  // A header's value, or "".
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  // The body as JSON; a body that is not JSON fails the test.
  rapidjson::Document json() const {
    rapidjson::Document doc;
    doc.Parse(body.data(), body.size());
    EXPECT_FALSE(doc.HasParseError()) << body;
    return doc;
  }
};

// Sends `method uri` with `headers` and, for a POST, `body` (with its
// Content-Length) to 127.0.0.1:port, and reads the answer.
inline HttpAnswer http_send(uint16_t port, const std::string& method, const std::string& uri,
                            const std::string& body = "",
                            const std::map<std::string, std::string>& headers = {}) {
  Poco::Net::HTTPClientSession session("127.0.0.1", port);
  Poco::Net::HTTPRequest request(method, uri, Poco::Net::HTTPMessage::HTTP_1_1);
  for (const auto& [k, v] : headers) request.set(k, v);
  if (method == "POST") request.setContentLength(static_cast<std::streamsize>(body.size()));
  session.sendRequest(request) << body;
  Poco::Net::HTTPResponse response;
  HttpAnswer out;
  Poco::StreamCopier::copyToString(session.receiveResponse(response), out.body);
  out.status = response.getStatus();
  for (const auto& [k, v] : response) {
    out.headers[k] = v;
    out.header_lines.emplace_back(k, v);
  }
  return out;
}

}  // namespace siphon::imitation

#endif  // SIPHON_TESTS_IMITATION_CLIENT_HPP
