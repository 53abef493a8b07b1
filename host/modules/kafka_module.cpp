// siphon-kafka.so: the kafka sink as a module (see modules.hpp).
#include "modules/modules.hpp"
#include "sink/kafka_sink.hpp"

namespace siphon {
void attach_module_host(const ModuleHost& host);
}  // namespace siphon

namespace {

std::unique_ptr<siphon::Sink> make_sink(const siphon::SinkConfig& config) {
  return std::make_unique<siphon::KafkaSink>(config);
}

std::vector<std::string> validate(const siphon::SinkConfig& config) {
  return siphon::KafkaProducer::validate(siphon::kafka_settings(config));
}

const siphon::KafkaModule kModule{SIPHON_MODULE_BUILD, &siphon::attach_module_host, &make_sink,
                                  &validate};

}  // namespace

extern "C" __attribute__((visibility("default"))) const siphon::KafkaModule* siphon_module_kafka() {
  return &kModule;
}
