// MockKafkaCluster: librdkafka's built-in mock Kafka cluster (rdkafka_mock.h)
// for tests, owning the client instance that hosts it. Its brokers speak the
// real Kafka protocol (idempotent producer, fetch, list offsets) and listen on
// 127.0.0.1 only, on ports the kernel picks. Faults are injected through
// set_all_down() / set_all_up() and push_produce_errors().
//
// read_topic() consumes a topic from its start to its current end with a
// plain consumer (assign(), no group join) and returns every message.
//
// Thread safety: the fault methods may be called from any thread while
// clients use the cluster (the mock serialises them on its own thread).
#ifndef SIPHON_TESTS_KAFKA_MOCK_CLUSTER_HPP
#define SIPHON_TESTS_KAFKA_MOCK_CLUSTER_HPP

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <string>
#include <utility>
#include <vector>

namespace siphon::test {

// The Kafka protocol's ApiKey of ProduceRequest (RD_KAFKAP_Produce lives in a
// header librdkafka does not install).
constexpr int16_t kApiKeyProduce = 0;

struct KafkaRecord {
  std::string key;
  std::string value;
  int32_t partition = -1;
  int64_t offset = -1;
};

class MockKafkaCluster {
 public:
  // Starts `brokers` mock brokers; throws std::runtime_error on failure.
  explicit MockKafkaCluster(int brokers = 3);
  ~MockKafkaCluster();
  MockKafkaCluster(const MockKafkaCluster&) = delete;
  MockKafkaCluster& operator=(const MockKafkaCluster&) = delete;

  // "127.0.0.1:PORT,127.0.0.1:PORT,..."
  const std::string& bootstrap_servers() const { return bootstraps_; }
  rd_kafka_mock_cluster_t* handle() { return mcluster_; }

  // Disconnects every broker and refuses new connections / accepts them again.
  void set_all_down();
  void set_all_up();
  // The next `count` produce requests fail with `error` (retriable by default).
  void push_produce_errors(size_t count,
                           rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);

  // Every message of `topic`, partition by partition in offset order. An
  // unknown topic reads as empty. Throws std::runtime_error when the end is
  // not reached within `timeout_ms`.
  std::vector<KafkaRecord> read_topic(const std::string& topic, int timeout_ms = 10000) const;
  // How many messages were ever appended to `topic` (the sum of its high
  // watermarks). The mock keeps only the newest few MB of each partition, so
  // read_topic() of a large topic starts past its oldest messages.
  int64_t appended(const std::string& topic, int timeout_ms = 10000) const;

 private:
  rd_kafka_t* owner_ = nullptr;
  rd_kafka_mock_cluster_t* mcluster_ = nullptr;
  std::string bootstraps_;
};

}  // namespace siphon::test

#endif
