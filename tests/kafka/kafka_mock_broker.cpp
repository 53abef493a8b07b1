// kafka_mock_broker: a mock Kafka cluster of 3 brokers on 127.0.0.1 in its own
// process, for end-to-end tests of the siphon binary with a kafka sink.
//
// Prints its bootstrap servers ("127.0.0.1:PORT,...") as the first line of
// stdout, then reads one command per line on stdin and answers each:
//   down          all brokers drop their connections and refuse new ones -> "ok"
//   up            all brokers accept connections again                   -> "ok"
//   errors N      the next N produce requests fail with the retriable
//                 NOT_ENOUGH_REPLICAS error                               -> "ok"
//   dump TOPIC    every message of TOPIC from its start, one line each as
//                 KEY<TAB>VALUE (partition by partition, in offset order;
//                 \ tab newline and CR escaped as \\ \t \n \r), then "end"
//   count TOPIC   how many messages were ever appended to TOPIC (the mock
//                 keeps only the newest few MB of each partition)
//   quit          exits 0 (so does the end of stdin)
// A command it cannot carry out is answered "error: REASON" (one line).
#include <iostream>
#include <sstream>
#include <string>

#include "mock_cluster.hpp"

namespace {

std::string escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

int main() {
  try {
    siphon::test::MockKafkaCluster cluster(3);
    std::cout << cluster.bootstrap_servers() << std::endl;
    std::string line;
    while (std::getline(std::cin, line)) {
      std::istringstream in(line);
      std::string command;
      in >> command;
      try {
        if (command.empty()) {
          continue;
        } else if (command == "quit") {
          break;
        } else if (command == "down") {
          cluster.set_all_down();
          std::cout << "ok" << std::endl;
        } else if (command == "up") {
          cluster.set_all_up();
          std::cout << "ok" << std::endl;
        } else if (command == "errors") {
          long count = -1;
          if (!(in >> count) || count < 0 || count > 100000) {
            std::cout << "error: usage: errors N (0 to 100000)" << std::endl;
            continue;
          }
          cluster.push_produce_errors(static_cast<size_t>(count));
          std::cout << "ok" << std::endl;
        } else if (command == "count") {
          std::string topic;
          if (!(in >> topic)) {
            std::cout << "error: usage: count TOPIC" << std::endl;
            continue;
          }
          std::cout << cluster.appended(topic) << std::endl;
        } else if (command == "dump") {
          std::string topic;
          if (!(in >> topic)) {
            std::cout << "error: usage: dump TOPIC" << std::endl;
            continue;
          }
          for (const auto& r : cluster.read_topic(topic))
            std::cout << escape(r.key) << '\t' << escape(r.value) << '\n';
          std::cout << "end" << std::endl;
        } else {
          std::cout << "error: unknown command " << command
                    << " (down, up, errors N, count TOPIC, dump TOPIC, quit)" << std::endl;
        }
      } catch (const std::exception& e) {
        std::cout << "error: " << e.what() << std::endl;
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "kafka_mock_broker: " << e.what() << std::endl;
    return 1;
  }
}
