#include "http/http_service.hpp"

#include <Poco/InflatingStream.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/NetException.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include <algorithm>
#include <random>
#include <siphon/time_format.hpp>
#include <sstream>
#include <thread>

#include "metrics/metrics.hpp"
#include "util/clock.hpp"

namespace siphon {
namespace {

bool retryable_status(int status) { return status == 429 || (status >= 500 && status <= 599); }

// 429 and 5xx, and a 403 that is a rate limit rather than a refusal: one
// carrying Retry-After, or rate-limit headers saying none remain (GitHub
// answers its primary and secondary limits with either status).
bool retryable(const HttpResponse& r, int64_t now) {
  if (retryable_status(r.status)) return true;
  return r.status == 403 &&
         (find_header(r.headers, {"Retry-After"}) || rate_limit_reset_ms(r.headers, now) >= 0);
}

std::string header_value(const HttpResponse& r, const char* name) {
  const std::string* v = find_header(r.headers, {name});
  return v ? *v : std::string();
}

// The jittered exponential backoff before retry number `attempt` (0-based).
int64_t backoff_delay_ms(int attempt) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  int64_t ceiling = 500;
  for (int i = 0; i < attempt && ceiling < 32000; ++i) ceiling *= 2;
  ceiling = std::min<int64_t>(ceiling, 32000);
  return std::uniform_int_distribution<int64_t>(ceiling / 2, ceiling)(rng);
}

// A body sent with Content-Encoding gzip or deflate, inflated in place and
// capped at `max_bytes` inflated (a small compressed body may inflate to a
// huge one). The header goes, since the plugin now sees the plain body.
bool decode_body(HttpResponse& response, int64_t max_bytes, std::string& error) {
  auto it = std::find_if(response.headers.begin(), response.headers.end(), [](const auto& h) {
    return Poco::icompare(h.first, "Content-Encoding") == 0;
  });
  if (it == response.headers.end()) return true;
  std::string coding = Poco::toLower(Poco::trim(it->second));
  Poco::InflatingStreamBuf::StreamType type;
  if (coding == "gzip" || coding == "x-gzip")
    type = Poco::InflatingStreamBuf::STREAM_GZIP;
  else if (coding == "deflate")
    type = Poco::InflatingStreamBuf::STREAM_ZLIB;
  else
    return true;  // identity, or one we do not decode: the plugin gets it as sent
  std::istringstream compressed(response.body);
  Poco::InflatingInputStream inflater(compressed, type);
  std::string plain;
  char buf[65536];
  try {
    while (inflater) {
      inflater.read(buf, sizeof buf);
      plain.append(buf, static_cast<size_t>(inflater.gcount()));
      if (static_cast<int64_t>(plain.size()) > max_bytes) {
        error = "response inflates (" + coding + ") to more than http.max_response_bytes (" +
                std::to_string(max_bytes) + " bytes)";
        return false;
      }
    }
  } catch (const Poco::Exception& e) {
    error = "the " + coding + " response body does not inflate: " + e.message();
    return false;
  }
  response.body = std::move(plain);
  std::erase_if(response.headers, [](const auto& h) {
    return Poco::icompare(h.first, "Content-Encoding") == 0 ||
           Poco::icompare(h.first, "Content-Length") == 0;
  });
  return true;
}

}  // namespace

bool is_loopback_host(const std::string& host) {
  if (Poco::icompare(host, "localhost") == 0) return true;
  std::string h = host;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  Poco::Net::IPAddress ip;
  // Only a literal address parses here: a name like 127.example.com does not.
  if (!Poco::Net::IPAddress::tryParse(h, ip)) return false;
  return ip.isLoopback();
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
      if (!decode_body(response, config_.max_response_bytes, response.error)) {
        fatal = true;
        return false;
      }
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

namespace {

bool parse_origin(const std::string& url, Poco::URI& uri, Origin& origin, std::string& error) {
  try {
    uri = Poco::URI(url);
  } catch (const Poco::Exception& e) {
    error = "invalid URL: " + e.message();
    return false;
  }
  origin = Origin{Poco::toLower(uri.getScheme()), Poco::toLower(uri.getHost()), uri.getPort()};
  if (origin.scheme != "https" && origin.scheme != "http") {
    error = "unsupported URL scheme \"" + origin.scheme + "\"";
    return false;
  }
  if (origin.host.empty()) {
    error = "URL has no host";
    return false;
  }
  if (origin.scheme == "http" && !is_loopback_host(origin.host)) {
    error = "plain http is allowed only to loopback hosts (" + origin.host + ")";
    return false;
  }
  return true;
}

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::string origin_text(const Origin& o) {
  return o.scheme + "://" + o.host + ":" + std::to_string(o.port);
}

constexpr int kMaxRedirects = 5;

}  // namespace

siphon_status HttpService::send(const HttpRequest& request, HttpResponse& response,
                                StopSignal* stop, const RequestPolicy* policy) {
  static const RequestPolicy kNoPolicy;
  const RequestPolicy& pol = policy ? *policy : kNoPolicy;
  Poco::URI uri;
  Origin origin;
  if (!parse_origin(request.url, uri, origin, response.error)) return SIPHON_ERROR;
  if (request.method != "GET" && request.method != "POST") {
    response.error = "unsupported method " + request.method;
    return SIPHON_ERROR;
  }
  HttpRequest current = request;
  for (int hops = 0;; ++hops) {
    std::string target = uri.getPathEtc();
    if (target.empty()) target = "/";
    siphon_status st = send_with_retries(origin, current, target, response, stop, pol);
    if (st != SIPHON_OK || !is_redirect(response.status) || !pol.follow_redirects) return st;
    std::string location = header_value(response, "Location");
    if (location.empty()) return SIPHON_OK;  // nothing to follow: the plugin sees the 3xx
    if (hops >= kMaxRedirects) {
      response.error = "more than " + std::to_string(kMaxRedirects) + " redirects";
      return SIPHON_ERROR;
    }
    Poco::URI next(uri);
    Origin next_origin;
    try {
      next.resolve(location);
    } catch (const Poco::Exception& e) {
      response.error = "redirect to an invalid URL: " + e.message();
      return SIPHON_ERROR;
    }
    if (!parse_origin(next.toString(), next, next_origin, response.error) ||
        next_origin.key() != origin.key()) {
      response.error =
          "redirect from " + origin_text(origin) + " to " +
          (next_origin.host.empty() ? std::string("another URL") : origin_text(next_origin)) +
          " refused: redirects must stay on the request's origin";
      return SIPHON_ERROR;
    }
    // 303, and 301/302 after a POST, continue as a GET without the body.
    if (response.status == 303 ||
        ((response.status == 301 || response.status == 302) && current.method == "POST")) {
      current.method = "GET";
      current.body.clear();
      std::erase_if(current.headers, [](const auto& h) {
        return Poco::icompare(h.first, "Content-Type") == 0 ||
               Poco::icompare(h.first, "Content-Length") == 0;
      });
    }
    uri = next;
  }
}

bool HttpService::backoff(int retry, StopSignal* stop, std::string& error) {
  if (retry >= config_.max_retries) {
    error = "gave up after " + std::to_string(retry + 1) + " attempts";
    return false;
  }
  static const RequestPolicy kNoPolicy;
  HttpResponse scratch;
  if (!wait(backoff_delay_ms(retry), kNoPolicy, stop, scratch)) {
    error = "stopped while waiting to retry" + scratch.error;
    return false;
  }
  return true;
}

bool HttpService::wait(int64_t ms, const RequestPolicy& policy, StopSignal* stop,
                       HttpResponse& response) {
  if (ms <= 0) return true;
  if (policy.deadline_ms > 0 && now_ms() + ms > policy.deadline_ms) {
    response.error +=
        " (waiting " + std::to_string((ms + 999) / 1000) + " s would pass the run's deadline)";
    return false;
  }
  if (stop) {
    if (!stop->wait_ms(ms)) {
      response.error += " (stopping)";
      return false;
    }
  } else {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }
  return true;
}

siphon_status HttpService::send_with_retries(const Origin& origin, const HttpRequest& request,
                                             const std::string& target, HttpResponse& response,
                                             StopSignal* stop, const RequestPolicy& policy) {
  for (int attempt = 0;; ++attempt) {
    response.attempts = attempt + 1;
    response.error.clear();
    // The credential's shared budget: a steady rate and the vendor's pauses.
    for (int64_t hold = budgets_.take(policy, now_ms()); hold > 0;
         hold = budgets_.take(policy, now_ms())) {
      if (hold > config_.retry_max_wait_ms) {
        response.error = "the credential's request budget is exhausted for " +
                         std::to_string((hold + 999) / 1000) + " s";
        return SIPHON_RETRY_LATER;
      }
      if (!wait(hold, policy, stop, response)) {
        response.error = "the credential's request budget is exhausted" + response.error;
        return SIPHON_RETRY_LATER;
      }
      if (policy.metrics) policy.metrics->rate_limit_wait(static_cast<double>(hold) / 1000.0);
    }
    bool fatal = false;
    auto started = std::chrono::steady_clock::now();
    bool got = exchange(origin, request, target, response, fatal);
    if (policy.metrics)
      policy.metrics->http_request(
          response.status,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (fatal) return SIPHON_ERROR;
    int64_t reset_wait = got ? budgets_.observe(policy, response.headers, now_ms()) : 0;
    if (got && !retryable(response, now_ms())) return SIPHON_OK;
    if (got) response.error = "HTTP " + std::to_string(response.status);
    if (attempt >= config_.max_retries) {
      response.error += " (gave up after " + std::to_string(attempt + 1) + " attempts)";
      return SIPHON_RETRY_LATER;
    }
    int64_t delay = backoff_delay_ms(attempt);
    bool vendor_asked = false;  // a rate-limit wait rather than our own backoff
    if (got) {
      int64_t ra = parse_retry_after_ms(header_value(response, "Retry-After"), now_ms());
      if (ra >= 0)
        delay = ra;
      else if (reset_wait > 0)
        delay = reset_wait;
      vendor_asked = ra >= 0 || reset_wait > 0;
    }
    if (delay > config_.retry_max_wait_ms) {
      response.error +=
          " (asked to wait " + std::to_string(delay / 1000) + " s, more than http.retry_max_wait)";
      return SIPHON_RETRY_LATER;
    }
    if (!wait(delay, policy, stop, response)) return SIPHON_RETRY_LATER;
    if (policy.metrics) {
      if (vendor_asked) policy.metrics->rate_limit_wait(static_cast<double>(delay) / 1000.0);
      policy.metrics->http_retry();
    }
  }
}

}  // namespace siphon
