// siphon-bench-kafka-ceiling: the most a Kafka client can deliver to the
// benchmark's broker, to read the kafka sink's row against. It produces N
// benchmark events (about 500 bytes, keyed by a 64-character id) in batches
// of 500 with the kafka sink's producer settings (idempotent, acks=all) and,
// as the sink does, waits for every delivery report of a batch before the
// next one. Nothing else: no fetching, no records, no state.
//
//   siphon-bench-kafka-ceiling BOOTSTRAP_SERVERS TOPIC N
// Prints {"events":N,"seconds":S} once every report arrived without error.
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_events.hpp"

namespace {

struct Reports {
  size_t pending = 0;
  size_t failed = 0;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* r = static_cast<Reports*>(opaque);
  --r->pending;
  if (msg->err) ++r->failed;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: siphon-bench-kafka-ceiling BOOTSTRAP_SERVERS TOPIC N\n");
    return 2;
  }
  const std::string topic = argv[2];
  const size_t n = std::strtoull(argv[3], nullptr, 10);
  Reports reports;
  char errstr[512] = {0};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (auto [name, value] : {std::pair{"bootstrap.servers", argv[1]},
                             std::pair{"enable.idempotence", const_cast<char*>("true")},
                             std::pair{"acks", const_cast<char*>("all")}}) {
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      std::fprintf(stderr, "siphon-bench-kafka-ceiling: %s: %s\n", name, errstr);
      return 1;
    }
  }
  rd_kafka_conf_set_opaque(conf, &reports);
  rd_kafka_conf_set_dr_msg_cb(conf, &on_delivery);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    std::fprintf(stderr, "siphon-bench-kafka-ceiling: %s\n", errstr);
    return 1;
  }
  // The events are made before the clock starts: only delivery is timed.
  std::vector<std::string> events;
  events.reserve(n);
  for (size_t i = 0; i < n; ++i)
    events.push_back(siphon::bench::make_event(i, "2026-01-01T00:00:00-08:00"));
  const auto start = std::chrono::steady_clock::now();
  for (size_t first = 0; first < n; first += siphon::bench::kMaxLimit) {
    size_t end = std::min(n, first + siphon::bench::kMaxLimit);
    for (size_t i = first; i < end; ++i) {
      char key[65];
      std::snprintf(key, sizeof key, "%064zx", i);
      for (;;) {
        rd_kafka_resp_err_t err =
            rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key, 64),
                              RD_KAFKA_V_VALUE(events[i].data(), events[i].size()),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          std::fprintf(stderr, "siphon-bench-kafka-ceiling: %s\n", rd_kafka_err2str(err));
          return 1;
        }
        rd_kafka_poll(rk, 10);
      }
      ++reports.pending;
    }
    while (reports.pending > 0) rd_kafka_poll(rk, 100);
    if (reports.failed > 0) {
      std::fprintf(stderr, "siphon-bench-kafka-ceiling: %zu messages failed\n", reports.failed);
      return 1;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rd_kafka_destroy(rk);
  std::printf("{\"events\":%zu,\"seconds\":%.6f}\n", n, seconds);
  return 0;
}
