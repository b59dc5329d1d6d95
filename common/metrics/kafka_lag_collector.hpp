#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "common/kafka/kafka_admin.hpp"
#include "common/metrics/metrics_registry.hpp"

namespace jobgate::metrics {

// A consumer group and the topic it consumes, whose lag a collector reports.
struct watched_group {
  std::string group;
  std::string topic;
};

// Reports Kafka consumer lag the way KEDA's Kafka scaler computes it: per partition, the log end
// offset minus the group's committed offset (minus the log start when the group committed none).
// A result is reused for `cache_for`, so frequent scrapes do not query the brokers each time.
class kafka_lag_collector {
 public:
  kafka_lag_collector(const kafka::kafka_config& config, std::vector<watched_group> watched,
                      std::chrono::milliseconds cache_for = std::chrono::seconds(5));

  // Writes jobgate_kafka_consumer_lag{group,topic,partition}, its sum per group and topic, and
  // jobgate_kafka_lag_up (0 when the last query failed). Thread-safe.
  void collect(exposition& out);

 private:
  struct reading {
    watched_group watched;
    std::vector<kafka::kafka_partition_lag> partitions;
  };

  kafka::kafka_admin admin_;
  std::vector<watched_group> watched_;
  std::chrono::milliseconds cache_for_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point read_at_;
  std::vector<reading> readings_;
  bool up_ = false;
};

}  // namespace jobgate::metrics
