// The `kafka` sink: each page of an app is produced to a topic (templated by
// app type and app name) through an idempotent librdkafka producer
// (enable.idempotence=true, acks=all; see sink/kafka_producer.hpp). The key
// of each message is the record's deterministic id (record_id: SHA-256 of
// the app and the plugin's declared event id, else the event's bytes), its
// value the record line. deliver()
// returns only when every message of the page has a delivery report without
// error and no fatal error is set; otherwise it throws SinkError and the
// cursor stays (a timeout commits nothing). Extra librdkafka properties may
// be given, their values as ${env:}/${file:} references, resolved when the
// producer is made (again after SIGHUP) and kept out of every message.
// Thread-safe: apps sharing the sink deliver one page at a time.
#ifndef SIPHON_HOST_SINK_KAFKA_SINK_HPP
#define SIPHON_HOST_SINK_KAFKA_SINK_HPP

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "sink/kafka_producer.hpp"
#include "sink/sink.hpp"

namespace siphon {

class KafkaSink : public Sink {
 public:
  explicit KafkaSink(const SinkConfig& config);
  ~KafkaSink() override;
  void deliver(const RecordBatch& batch, StopSignal* stop = nullptr) override;
  // Reads the secret references again: the next delivery makes a new producer.
  void reopen() override;
  std::string probe(bool& ok) override;

 private:
  // The producer, made on first use. Throws SinkError.
  KafkaProducer& producer();

  const SinkConfig config_;
  std::mutex mu_;
  std::unique_ptr<KafkaProducer> producer_;
};

// The producer settings of a kafka sink, its references resolved. Throws
// SinkError naming the field whose reference does not resolve.
KafkaSettings kafka_settings(const SinkConfig& config);

}  // namespace siphon

#endif
