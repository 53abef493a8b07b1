#include "http/http_service.hpp"

#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/URI.h>

#include <algorithm>
#include <random>
#include <siphon/time_format.hpp>
#include <thread>

#include "util/clock.hpp"

namespace siphon {
namespace {

bool retryable_status(int status) { return status == 429 || (status >= 500 && status <= 599); }

std::string header_value(const HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (Poco::icompare(k, name) == 0) return v;
  return {};
}

}  // namespace

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1" || host == "[::1]";
}

int64_t parse_retry_after_ms(const std::string& value, int64_t now) {
  if (value.empty()) return -1;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return value.size() > 9 ? -1 : std::stoll(value) * 1000;
  try {
    return std::max<int64_t>(0, timefmt::parse_rfc2822(value) - now);
  } catch (const std::exception&) {
    return -1;
  }
}

HttpService::HttpService(const HttpConfig& config) : config_(config), pool_(config) {}

bool HttpService::exchange(const Origin& origin, const HttpRequest& request,
                           const std::string& target, HttpResponse& response, bool& fatal) {
  // A reused keep-alive session the server closed while idle fails at once;
  // such a failure is retried on a fresh session without counting as an attempt.
  for (int stale_retry = 0; stale_retry < 2; ++stale_retry) {
    bool reused = false;
    auto session = pool_.acquire(origin, reused);
    response.status = 0;
    response.headers.clear();
    response.body.clear();
    try {
      Poco::Net::HTTPRequest req(request.method, target, Poco::Net::HTTPMessage::HTTP_1_1);
      req.set("User-Agent", "siphon/" SIPHON_VERSION);
      req.setKeepAlive(true);
      for (const auto& [k, v] : request.headers) req.set(k, v);
      if (!request.body.empty() || request.method == "POST")
        req.setContentLength(static_cast<std::streamsize>(request.body.size()));
      std::ostream& os = session->sendRequest(req);
      os.write(request.body.data(), static_cast<std::streamsize>(request.body.size()));
      Poco::Net::HTTPResponse resp;
      std::istream& is = session->receiveResponse(resp);
      response.status = static_cast<int>(resp.getStatus());
      for (const auto& [k, v] : resp) response.headers.emplace_back(k, v);
      char buf[65536];
      while (is) {
        is.read(buf, sizeof buf);
        response.body.append(buf, static_cast<size_t>(is.gcount()));
        if (static_cast<int64_t>(response.body.size()) > config_.max_response_bytes) {
          response.error = "response larger than http.max_response_bytes (" +
                           std::to_string(config_.max_response_bytes) + " bytes)";
          fatal = true;
          return false;  // session dropped: the body was not read to the end
        }
      }
      if (resp.hasContentLength() &&
          static_cast<int64_t>(response.body.size()) < resp.getContentLength64()) {
        response.error = "truncated response body (" + std::to_string(response.body.size()) +
                         " of " + std::to_string(resp.getContentLength64()) + " bytes)";
        return false;
      }
      if (resp.getKeepAlive()) pool_.release(origin, std::move(session));
      return true;
    } catch (const Poco::Net::NoMessageException& e) {
      response.error = "connection closed before a response";
      if (reused) continue;
    } catch (const Poco::Net::ConnectionResetException& e) {
      response.error = "connection reset";
      if (reused) continue;
    } catch (const Poco::TimeoutException& e) {
      response.error = "timed out";
    } catch (const Poco::Exception& e) {
      response.error = e.displayText();
    } catch (const std::exception& e) {
      response.error = e.what();
    }
    return false;
  }
  return false;
}

siphon_status HttpService::send(const HttpRequest& request, HttpResponse& response,
                                StopSignal* stop) {
  Poco::URI uri;
  try {
    uri = Poco::URI(request.url);
  } catch (const Poco::Exception& e) {
    response.error = "invalid URL: " + e.message();
    return SIPHON_ERROR;
  }
  Origin origin{uri.getScheme(), uri.getHost(), uri.getPort()};
  if (origin.scheme != "https" && origin.scheme != "http") {
    response.error = "unsupported URL scheme \"" + origin.scheme + "\"";
    return SIPHON_ERROR;
  }
  if (origin.host.empty()) {
    response.error = "URL has no host";
    return SIPHON_ERROR;
  }
  if (origin.scheme == "http" && !is_loopback_host(origin.host)) {
    response.error = "plain http is allowed only to loopback hosts (" + origin.host + ")";
    return SIPHON_ERROR;
  }
  if (request.method != "GET" && request.method != "POST") {
    response.error = "unsupported method " + request.method;
    return SIPHON_ERROR;
  }
  std::string target = uri.getPathEtc();
  if (target.empty()) target = "/";
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  int64_t backoff_ms = 500;
  for (int attempt = 0;; ++attempt) {
    response.attempts = attempt + 1;
    response.error.clear();
    bool fatal = false;
    bool got = exchange(origin, request, target, response, fatal);
    if (fatal) return SIPHON_ERROR;
    if (got && !retryable_status(response.status)) return SIPHON_OK;
    if (got) response.error = "HTTP " + std::to_string(response.status);
    if (attempt >= config_.max_retries) {
      response.error += " (gave up after " + std::to_string(attempt + 1) + " attempts)";
      return SIPHON_RETRY_LATER;
    }
    int64_t wait = std::uniform_int_distribution<int64_t>(backoff_ms / 2, backoff_ms)(rng);
    backoff_ms = std::min<int64_t>(backoff_ms * 2, 32000);
    if (got) {
      int64_t ra = parse_retry_after_ms(header_value(response, "Retry-After"), now_ms());
      if (ra >= 0) wait = ra;
    }
    if (wait > config_.retry_max_wait_ms) {
      response.error +=
          " (asked to wait " + std::to_string(wait / 1000) + " s, more than http.retry_max_wait)";
      return SIPHON_RETRY_LATER;
    }
    if (stop && !stop->wait_ms(wait)) {
      response.error += " (stopping)";
      return SIPHON_RETRY_LATER;
    }
    if (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(wait));
  }
}

}  // namespace siphon
