#include "sink/kafka_sink.hpp"

#include "config/secret_ref.hpp"
#include "log/log.hpp"

namespace siphon {

KafkaSettings kafka_settings(const SinkConfig& config) {
  KafkaSettings s;
  s.bootstrap_servers = config.brokers;
  if (!config.topic.empty()) s.topic_template = config.topic;
  if (config.timeout_ms > 0) s.delivery_timeout_ms = static_cast<int>(config.timeout_ms);
  for (const auto& [name, raw] : config.kafka_properties) {
    KafkaProperty p;
    p.name = name;
    // A value given by reference is a secret; librdkafka's own credential
    // properties (sasl.password ...) are treated as secret by the producer.
    p.is_secret = has_secret_ref(raw);
    try {
      p.value = resolve_secret_refs(raw, config.dir);
    } catch (const SecretRefError& e) {
      throw SinkError("sink " + config.name + ": field properties." + name + ": " + e.what());
    }
    s.properties.push_back(std::move(p));
  }
  return s;
}

KafkaSink::KafkaSink(const SinkConfig& config) : Sink(config.name), config_(config) {}

KafkaSink::~KafkaSink() = default;

KafkaProducer& KafkaSink::producer() {
  if (!producer_) {
    try {
      producer_ = std::make_unique<KafkaProducer>(kafka_settings(config_));
    } catch (const KafkaError& e) {
      throw SinkError("sink " + name() + ": " + e.what());
    }
  }
  return *producer_;
}

void KafkaSink::deliver(const RecordBatch& batch, StopSignal*) {
  if (batch.size() == 0) return;
  std::vector<std::string> ids;
  ids.reserve(batch.size());
  std::vector<KafkaProducer::Message> messages;
  messages.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) ids.push_back(record_id(batch, i));
  for (size_t i = 0; i < batch.size(); ++i) messages.emplace_back(ids[i], batch.record(i));
  std::lock_guard lock(mu_);
  try {
    producer().send(batch.app, batch.type, messages);
  } catch (const KafkaError& e) {
    throw SinkError("sink " + name() + ": " + e.what() +
                    (e.permanent() ? " (resending the page cannot succeed)" : ""));
  }
}

void KafkaSink::reopen() {
  std::lock_guard lock(mu_);
  producer_.reset();
}

std::string KafkaSink::probe(bool& ok) {
  std::lock_guard lock(mu_);
  try {
    std::string why = producer().probe(5000);
    ok = why.empty();
    return ok ? "reachable (brokers " + config_.brokers + ")" : why;
  } catch (const SinkError& e) {
    ok = false;
    return e.what();
  }
}

}  // namespace siphon
