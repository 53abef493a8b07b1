// siphon-bench-sink: a fast local receiver for the network sinks, for
// scripts/bench, on 127.0.0.1 only. One server answers all three sink types
// the way their services do, counting records and storing nothing (so that
// the benchmark measures Siphon, not the receiver):
//   POST /ingest                      (http) NDJSON; 200 {"accepted":N}
//   POST /services/collector/event    (splunk_hec) {"text":"Success","code":0,"ackId":N}
//   POST /services/collector/ack      every ackId asked about is true
//   POST /_bulk                       (elasticsearch) one 201 `create` item per document
// It prints {"port":P,"base_url":"http://127.0.0.1:P"} on start and takes
// commands on standard input, each answered by one JSON line:
//   stats   {"records":..,"requests":..,"cpu_s":..}
//   quit    stops.
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <string>

#include "imitation.hpp"

using siphon::imitation::Imitation;
using siphon::imitation::Reply;
using siphon::imitation::Request;

namespace {

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class BenchSink : public Imitation {
 public:
  std::string stats() const {
    return "{\"records\":" + std::to_string(records_.load()) +
           ",\"requests\":" + std::to_string(requests_.load()) +
           ",\"cpu_s\":" + std::to_string(cpu_seconds()) + "}";
  }

 protected:
  void handle(const Request& request, Reply& reply) override {
    ++requests_;
    if (request.path == "/ingest") {
      size_t n = static_cast<size_t>(std::count(request.body.begin(), request.body.end(), '\n'));
      records_ += n;
      reply.body = "{\"accepted\":" + std::to_string(n) + "}";
    } else if (request.path == "/services/collector/event") {
      records_ += count_of(request.body, "{\"event\":");
      reply.body = "{\"text\":\"Success\",\"code\":0,\"ackId\":" + std::to_string(ack_++) + "}";
    } else if (request.path == "/services/collector/ack") {
      // {"acks":[1,2,3]} -> {"acks":{"1":true,...}}
      std::string out = "{\"acks\":{";
      size_t open = request.body.find('['), close = request.body.find(']');
      std::string list = open == std::string::npos || close == std::string::npos
                             ? std::string()
                             : request.body.substr(open + 1, close - open - 1);
      bool first = true;
      for (size_t pos = 0; pos < list.size();) {
        size_t comma = list.find(',', pos);
        if (comma == std::string::npos) comma = list.size();
        out += std::string(first ? "" : ",") + "\"" + list.substr(pos, comma - pos) + "\":true";
        first = false;
        pos = comma + 1;
      }
      reply.body = out + "}}";
    } else if (request.path == "/_bulk") {
      size_t n =
          static_cast<size_t>(std::count(request.body.begin(), request.body.end(), '\n')) / 2;
      records_ += n;
      std::string body = "{\"took\":1,\"errors\":false,\"items\":[";
      body.reserve(body.size() + n * 32);
      for (size_t i = 0; i < n; ++i)
        body += i ? ",{\"create\":{\"status\":201}}" : "{\"create\":{\"status\":201}}";
      reply.body = body + "]}";
    } else {
      reply.status = 404;
      reply.body = "{}";
    }
  }

 private:
  std::atomic<size_t> records_{0};
  std::atomic<size_t> requests_{0};
  std::atomic<long long> ack_{0};
};

}  // namespace

int main() {
  signal(SIGPIPE, SIG_IGN);
  BenchSink sink;
  sink.start();
  std::cout << "{\"port\":" << sink.port() << ",\"base_url\":\"" << sink.base_url() << "\"}"
            << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line == "stats")
      std::cout << sink.stats() << std::endl;
    else if (line == "quit")
      break;
    else
      std::cout << "{\"error\":\"unknown command\"}" << std::endl;
  }
  sink.stop();
  return 0;
}
