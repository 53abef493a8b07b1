// KafkaProducer: delivers pages of keyed messages to a Kafka topic through
// librdkafka's idempotent producer (enable.idempotence=true, acks=all) and
// reports a page acknowledged only when the cluster holds every message of it.
// It is the delivery half of the future `kafka` sink: the sink turns records
// into (key, value) pairs, with the key a deterministic record id, and calls
// send() once per page before the caller commits the app's cursor.
//
// send() returns normally only when all of these hold: every message of the
// call was handed to librdkafka, a delivery report arrived for each one, no
// report carried an error, and rd_kafka_fatal_error() is clear. Anything else
// (a report with an error, a message too large, a timeout, a fatal error)
// throws KafkaError and nothing of the page may be considered delivered; the
// caller sends the page again later. Some messages of a failed page may still
// reach the topic, so delivery is at least once; the idempotent producer keeps
// librdkafka's own retries from adding duplicates. A fatal error destroys the
// librdkafka producer and creates a new one before the call fails.
//
// Secret properties (marked in the settings, and sasl.password and the other
// credential properties librdkafka knows, whatever their mark) never appear in
// an error text or in the log lines librdkafka writes through Siphon's log.
//
// Thread safety: every method may be called from any thread; calls on one
// producer are serialised by its mutex (one send() at a time).
#ifndef SIPHON_HOST_SINK_KAFKA_PRODUCER_HPP
#define SIPHON_HOST_SINK_KAFKA_PRODUCER_HPP

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace siphon {

// A failed send(), probe-less construction or invalid settings. what() is one
// line naming the topic (for send) and the first error; never a secret value.
// permanent() is true when sending the same page again cannot succeed (a
// message larger than message.max.bytes, a topic name Kafka refuses).
class KafkaError : public std::runtime_error {
 public:
  explicit KafkaError(const std::string& what, bool permanent = false)
      : std::runtime_error(what), permanent_(permanent) {}
  bool permanent() const { return permanent_; }

 private:
  bool permanent_;
};

// One librdkafka property passed through as is (e.g. security.protocol,
// sasl.mechanism, compression.type). `value` is already resolved from its
// ${env:} / ${file:} reference; `is_secret` keeps it out of every text.
struct KafkaProperty {
  std::string name;
  std::string value;
  bool is_secret = false;
};

struct KafkaSettings {
  // bootstrap.servers: comma-separated host:port list. Required.
  std::string bootstrap_servers;
  // Topic name with placeholders {type} (the app type, e.g. duo_auth) and
  // {app} (the app name). The result must be a legal Kafka topic name.
  std::string topic_template = "siphon-{type}";
  // Extra librdkafka properties. The properties Siphon sets itself
  // (bootstrap.servers, client.id, enable.idempotence, acks,
  // message.timeout.ms, delivery.timeout.ms, request.timeout.ms) are refused.
  std::vector<KafkaProperty> properties;
  // message.timeout.ms: how long librdkafka tries to deliver a message,
  // retries included. send() gives up a little (kSendMarginMs) after it.
  int delivery_timeout_ms = 30000;
  // request.timeout.ms: how long one produce request waits for the acks of
  // all in-sync replicas.
  int ack_timeout_ms = 10000;
  // client.id, shown in broker logs and metrics.
  std::string client_id = "siphon";
};

class KafkaProducer {
 public:
  // A message: (key, value). Both are copied before send() returns.
  using Message = std::pair<std::string_view, std::string_view>;

  // How long send() waits beyond delivery_timeout_ms for the last delivery
  // reports (librdkafka scans for expired messages about once a second).
  static constexpr int kSendMarginMs = 2000;

  // Creates the librdkafka producer (no network until the first call).
  // Throws KafkaError naming the first invalid setting (see validate()).
  explicit KafkaProducer(KafkaSettings settings);
  ~KafkaProducer();
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  // Produces every message to topic_for(app, type) and waits for their
  // delivery reports; see the header comment for when it returns normally.
  // Throws KafkaError otherwise. An empty `messages` returns at once.
  // Waits at most delivery_timeout_ms + kSendMarginMs.
  void send(const std::string& app, const std::string& type, const std::vector<Message>& messages);

  // Asks the cluster for metadata: "" when a broker answers within
  // `timeout_ms`, else a one-line reason (for `siphon check --sinks`).
  std::string probe(int timeout_ms);

  // The topic a page of `app` (of app type `type`) goes to.
  std::string topic_for(const std::string& app, const std::string& type) const;

  // How many librdkafka producers this object has created: 1, plus one for
  // each fatal error it recovered from.
  std::uint64_t producer_generation() const;

  // Tests only: raises a fabricated fatal error in the current librdkafka
  // producer (rd_kafka_test_fatal_error), as a fenced or out-of-sequence
  // idempotent producer would. Does not wait for a send() in progress, which
  // then fails with the fatal error.
  void raise_fatal_error_for_test(const std::string& reason);

  // Checks settings without network. Returns one line per problem, each
  // starting with the key it is about ("bootstrap_servers: ...",
  // "topic: ...", "properties.sasl.mechanism: ..."); empty when valid.
  static std::vector<std::string> validate(const KafkaSettings& settings);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace siphon

#endif
