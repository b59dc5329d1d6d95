#include "common/metrics/kafka_lag_collector.hpp"

#include "common/log/logger.hpp"

namespace jobgate::metrics {

namespace {

constexpr auto query_timeout = std::chrono::seconds(2);

}  // namespace

kafka_lag_collector::kafka_lag_collector(const kafka::kafka_config& config,
                                         std::vector<watched_group> watched,
                                         std::chrono::milliseconds cache_for)
    : admin_(config), watched_(std::move(watched)), cache_for_(cache_for) {}

void kafka_lag_collector::collect(exposition& out) {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (readings_.empty() || now - read_at_ >= cache_for_) {
    std::vector<reading> fresh;
    bool all_read = true;
    for (const auto& watched : watched_) {
      auto lag = admin_.consumer_lag(watched.group, {watched.topic}, query_timeout);
      if (!lag) {
        all_read = false;
        log::logger{}.warn(
            "consumer lag query failed",
            {{"group", watched.group}, {"topic", watched.topic}, {"error", lag.error().message()}});
        continue;
      }
      fresh.push_back({watched, std::move(*lag)});
    }
    readings_ = std::move(fresh);
    read_at_ = now;
    up_ = all_read;
  }

  out.begin_family("jobgate_kafka_consumer_lag",
                   "Messages of a partition the consumer group has not committed yet.", "gauge");
  for (const auto& [watched, partitions] : readings_) {
    for (const auto& partition : partitions) {
      out.sample("jobgate_kafka_consumer_lag",
                 {{"group", watched.group},
                  {"topic", partition.topic},
                  {"partition", std::to_string(partition.partition)}},
                 static_cast<double>(partition.lag));
    }
  }
  out.begin_family("jobgate_kafka_consumer_group_lag",
                   "Messages the consumer group has not committed yet, summed over the topic's "
                   "partitions: the queue depth that KEDA's Kafka scaler reads.",
                   "gauge");
  for (const auto& [watched, partitions] : readings_) {
    std::int64_t total = 0;
    for (const auto& partition : partitions) {
      total += partition.lag;
    }
    out.sample("jobgate_kafka_consumer_group_lag",
               {{"group", watched.group}, {"topic", watched.topic}}, static_cast<double>(total));
  }
  out.begin_family("jobgate_kafka_lag_up",
                   "1 when the last consumer lag query succeeded for every watched group, else 0.",
                   "gauge");
  out.sample("jobgate_kafka_lag_up", {}, up_ ? 1 : 0);
}

}  // namespace jobgate::metrics
