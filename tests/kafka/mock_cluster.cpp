#include "mock_cluster.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>

namespace siphon::test {
namespace {

void quiet_log(const rd_kafka_t*, int, const char*, const char*) {}

void set_or_throw(rd_kafka_conf_t* conf, const char* name, const std::string& value) {
  char errstr[512] = {0};
  if (rd_kafka_conf_set(conf, name, value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("mock kafka: ") + name + ": " + errstr);
  }
}

struct ClientDeleter {
  void operator()(rd_kafka_t* rk) const {
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
  }
};

// Kafka brokers set TCP_NODELAY on their connections; the mock's do not, and
// without it Nagle's algorithm meets the client's delayed ACK and stalls each
// round trip with several partition leaders by about 40 ms. Linux copies the
// option from a listening socket to the connections it accepts, so it is set
// on this process's listeners on the brokers' ports.
void set_nodelay_on_listeners(const std::string& bootstraps) {
  std::vector<uint16_t> ports;
  for (size_t start = 0; start < bootstraps.size();) {
    size_t comma = bootstraps.find(',', start);
    std::string entry = bootstraps.substr(start, comma - start);
    if (size_t colon = entry.rfind(':'); colon != std::string::npos)
      ports.push_back(static_cast<uint16_t>(std::stoi(entry.substr(colon + 1))));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    int fd = 0;
    try {
      fd = std::stoi(entry.path().filename().string());
    } catch (const std::exception&) {
      continue;
    }
    int listening = 0;
    socklen_t len = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_in addr{};
    len = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        addr.sin_family != AF_INET)
      continue;
    if (std::find(ports.begin(), ports.end(), ntohs(addr.sin_port)) == ports.end()) continue;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
}

}  // namespace

MockKafkaCluster::MockKafkaCluster(int brokers) {
  // The mock needs a client instance to host it; this one never connects.
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_log_cb(conf, &quiet_log);
  char errstr[512] = {0};
  owner_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!owner_) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("mock kafka: ") + errstr);
  }
  mcluster_ = rd_kafka_mock_cluster_new(owner_, brokers);
  if (!mcluster_) {
    rd_kafka_destroy(owner_);
    throw std::runtime_error("mock kafka: cannot start the mock cluster");
  }
  bootstraps_ = rd_kafka_mock_cluster_bootstraps(mcluster_);
  set_nodelay_on_listeners(bootstraps_);
}

MockKafkaCluster::~MockKafkaCluster() {
  rd_kafka_mock_cluster_destroy(mcluster_);
  rd_kafka_destroy(owner_);
}

void MockKafkaCluster::set_all_down() { rd_kafka_mock_broker_set_down(mcluster_, -1); }

void MockKafkaCluster::set_all_up() { rd_kafka_mock_broker_set_up(mcluster_, -1); }

void MockKafkaCluster::push_produce_errors(size_t count, rd_kafka_resp_err_t error) {
  std::vector<rd_kafka_resp_err_t> errors(count, error);
  rd_kafka_mock_push_request_errors_array(mcluster_, kApiKeyProduce, count, errors.data());
}

namespace {

using Reader = std::unique_ptr<rd_kafka_t, ClientDeleter>;

Reader open_reader(const std::string& bootstraps) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set_or_throw(conf, "bootstrap.servers", bootstraps);
  // A group id lets rd_kafka_consumer_poll() serve the assignment; with
  // assign() the consumer never joins the group.
  set_or_throw(conf, "group.id", "siphon-test-reader");
  set_or_throw(conf, "enable.auto.commit", "false");
  set_or_throw(conf, "enable.partition.eof", "true");
  set_or_throw(conf, "auto.offset.reset", "earliest");
  rd_kafka_conf_set_log_cb(conf, &quiet_log);
  char errstr[512] = {0};
  rd_kafka_t* raw = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (!raw) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("mock kafka reader: ") + errstr);
  }
  return Reader(raw);
}

// partition -> {low, high} watermark of every partition of `topic`; empty
// for an unknown topic.
std::map<int32_t, std::pair<int64_t, int64_t>> watermarks(rd_kafka_t* rk, const std::string& topic,
                                                          const std::function<int()>& left_ms) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, left_ms());
  rd_kafka_topic_destroy(rkt);
  if (err) throw std::runtime_error(std::string("mock kafka reader: ") + rd_kafka_err2str(err));
  int partitions = 0;
  rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  if (md->topic_cnt == 1) {
    partitions = md->topics[0].partition_cnt;
    topic_err = md->topics[0].err;
  }
  rd_kafka_metadata_destroy(md);
  std::map<int32_t, std::pair<int64_t, int64_t>> marks;
  if (topic_err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) return marks;
  if (topic_err)
    throw std::runtime_error(std::string("mock kafka reader: ") + rd_kafka_err2str(topic_err));
  for (int32_t p = 0; p < partitions; ++p) {
    int64_t low = 0, high = 0;
    err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &low, &high, left_ms());
    if (err)
      throw std::runtime_error(std::string("mock kafka reader: watermarks: ") +
                               rd_kafka_err2str(err));
    marks[p] = {low, high};
  }
  return marks;
}

std::function<int()> time_left(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  return [deadline] {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    return static_cast<int>(std::max<int64_t>(0, left));
  };
}

}  // namespace

int64_t MockKafkaCluster::appended(const std::string& topic, int timeout_ms) const {
  Reader rk = open_reader(bootstraps_);
  int64_t total = 0;
  for (const auto& [p, mark] : watermarks(rk.get(), topic, time_left(timeout_ms)))
    total += mark.second;
  return total;
}

std::vector<KafkaRecord> MockKafkaCluster::read_topic(const std::string& topic,
                                                      int timeout_ms) const {
  auto left_ms = time_left(timeout_ms);
  Reader rk = open_reader(bootstraps_);
  const auto marks = watermarks(rk.get(), topic, left_ms);
  std::map<int32_t, int64_t> end;  // partitions still to read: partition -> high watermark
  rd_kafka_topic_partition_list_t* assignment =
      rd_kafka_topic_partition_list_new(static_cast<int>(marks.size()));
  for (const auto& [p, mark] : marks) {
    if (mark.second <= mark.first) continue;
    end[p] = mark.second;
    rd_kafka_topic_partition_list_add(assignment, topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  std::vector<KafkaRecord> records;
  if (end.empty()) {
    rd_kafka_topic_partition_list_destroy(assignment);
    return records;
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(rk.get(), assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  if (err) throw std::runtime_error(std::string("mock kafka reader: ") + rd_kafka_err2str(err));

  while (!end.empty()) {
    if (left_ms() == 0)
      throw std::runtime_error("mock kafka reader: topic " + topic + " not read to its end in " +
                               std::to_string(timeout_ms) + " ms");
    rd_kafka_message_t* msg = rd_kafka_consumer_poll(rk.get(), std::min(100, left_ms()));
    if (!msg) continue;
    int32_t p = msg->partition;
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      KafkaRecord r;
      if (msg->key) r.key.assign(static_cast<const char*>(msg->key), msg->key_len);
      if (msg->payload) r.value.assign(static_cast<const char*>(msg->payload), msg->len);
      r.partition = p;
      r.offset = msg->offset;
      records.push_back(std::move(r));
      if (auto it = end.find(p); it != end.end() && msg->offset + 1 >= it->second) end.erase(it);
    } else if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (auto it = end.find(p); it != end.end() && msg->offset >= it->second) end.erase(it);
    } else {
      std::string text = rd_kafka_message_errstr(msg);
      rd_kafka_message_destroy(msg);
      throw std::runtime_error("mock kafka reader: " + text);
    }
    rd_kafka_message_destroy(msg);
  }
  std::sort(records.begin(), records.end(), [](const KafkaRecord& a, const KafkaRecord& b) {
    return a.partition != b.partition ? a.partition < b.partition : a.offset < b.offset;
  });
  return records;
}

}  // namespace siphon::test
