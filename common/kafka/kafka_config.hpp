#pragma once

#include <string>
#include <utility>
#include <vector>

namespace jobgate::kafka {

// Settings shared by kafka_producer, kafka_consumer and kafka_admin.
struct kafka_config {
  // bootstrap.servers: "host:port[,host:port...]".
  std::string brokers;
  // client.id, shown in broker logs and metrics.
  std::string client_id = "jobgate";
  // group.id; kafka_consumer requires it, the others ignore it.
  std::string group_id;
  // librdkafka properties applied after the wrapper's defaults, so they win. See librdkafka's
  // CONFIGURATION.md for the names.
  std::vector<std::pair<std::string, std::string>> overrides;
};

}  // namespace jobgate::kafka
