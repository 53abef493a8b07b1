// Drives the kafka_mock_broker helper through its stdin/stdout pipe, as the
// end-to-end tests of the siphon binary will, with a real KafkaProducer.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "mock_broker_process.hpp"
#include "sink/kafka_producer.hpp"

namespace siphon {
namespace {

using siphon::testing::dump;
using siphon::testing::MockBrokerProcess;

TEST(KafkaMockBrokerTest, ServesProducersAndObeysEachCommand) {
  MockBrokerProcess broker;
  std::string bootstraps = broker.read_line();
  ASSERT_EQ(bootstraps.rfind("127.0.0.1:", 0), 0u) << bootstraps;
  size_t entries = 1 + static_cast<size_t>(std::count(bootstraps.begin(), bootstraps.end(), ','));
  EXPECT_EQ(entries, 3u) << bootstraps;

  KafkaSettings settings;
  settings.bootstrap_servers = bootstraps;
  settings.delivery_timeout_ms = 2000;
  settings.ack_timeout_ms = 1000;
  settings.properties = {{"reconnect.backoff.ms", "20"},
                         {"reconnect.backoff.max.ms", "200"},
                         {"retry.backoff.ms", "20"}};
  KafkaProducer producer(settings);

  // Values with a tab, a newline and a backslash come back escaped.
  std::vector<KafkaProducer::Message> first = {
      {"k1", "plain"}, {"k2", "tab\there"}, {"k3", "line\nbreak\\"}};
  producer.send("corp-box", "box_admin_events", first);

  broker.write_line("errors 3");
  EXPECT_EQ(broker.read_line(), "ok");
  std::vector<KafkaProducer::Message> second = {{"k4", "after errors"}};
  producer.send("corp-box", "box_admin_events", second);

  EXPECT_EQ(dump(broker, "siphon-box_admin_events"),
            (std::vector<std::string>{"k1\tplain", "k2\ttab\\there", "k3\tline\\nbreak\\\\",
                                      "k4\tafter errors"}));
  EXPECT_TRUE(dump(broker, "siphon-no_such_topic").empty());

  broker.write_line("down");
  EXPECT_EQ(broker.read_line(), "ok");
  std::vector<KafkaProducer::Message> third = {{"k5", "while down"}};
  EXPECT_THROW(producer.send("corp-box", "box_admin_events", third), KafkaError);
  broker.write_line("up");
  EXPECT_EQ(broker.read_line(), "ok");
  producer.send("corp-box", "box_admin_events", third);
  auto lines = dump(broker, "siphon-box_admin_events");
  EXPECT_EQ(std::count(lines.begin(), lines.end(), "k5\twhile down"), 1);
  EXPECT_EQ(lines.size(), 5u);

  broker.write_line("errors many");
  EXPECT_EQ(broker.read_line().rfind("error: usage: errors N", 0), 0u);
  broker.write_line("launch");
  EXPECT_EQ(broker.read_line().rfind("error: unknown command launch", 0), 0u);

  broker.write_line("quit");
  EXPECT_EQ(broker.wait_exit(), 0);
}

}  // namespace
}  // namespace siphon
