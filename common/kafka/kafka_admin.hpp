#pragma once

#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "common/kafka/kafka_config.hpp"
#include "common/kafka/kafka_handles.hpp"
#include "common/kafka/kafka_message.hpp"

namespace jobgate::kafka {

struct kafka_topic_info {
  std::string name;
  std::int32_t partitions = 0;
};

// How far a consumer group is behind on one partition.
struct kafka_partition_lag {
  std::string topic;
  std::int32_t partition = -1;
  // The group's committed offset (the next offset it will read), or -1 when it committed none.
  std::int64_t committed_offset = -1;
  // Offset of the oldest message still stored (log start).
  std::int64_t low_watermark = 0;
  // Offset the next produced message will get (log end).
  std::int64_t high_watermark = 0;
  // Messages not yet committed: high_watermark minus the committed offset, or minus
  // low_watermark when nothing was committed (a new group reads from the oldest message).
  std::int64_t lag = 0;
};

// Topic and consumer-group queries and topic creation for tests, tools and queue-depth metrics.
// Each call blocks for at most its timeout. Thread-safe: calls may run from several threads.
class kafka_admin {
 public:
  // Throws std::invalid_argument for an invalid setting and std::runtime_error when librdkafka
  // cannot create the client. config.group_id is ignored.
  explicit kafka_admin(const kafka_config& config);

  kafka_admin(const kafka_admin&) = delete;
  kafka_admin& operator=(const kafka_admin&) = delete;

  // Every topic in the cluster, Kafka's internal ones (such as __consumer_offsets) included,
  // sorted by name.
  boost::system::result<std::vector<kafka_topic_info>, std::error_code> list_topics(
      std::chrono::milliseconds timeout);

  // Creates a topic and waits for the controller to accept it. An existing topic returns
  // RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS.
  std::error_code create_topic(std::string_view name, int partitions, int replication_factor,
                               std::chrono::milliseconds timeout);

  // Lag of group_id on every partition of the given topics, ordered as the topics are given and
  // then by partition. A topic that does not exist returns RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART.
  // Retryable errors, such as a coordinator that is still loading, are retried until the timeout.
  boost::system::result<std::vector<kafka_partition_lag>, std::error_code> consumer_lag(
      std::string_view group_id, const std::vector<std::string>& topics,
      std::chrono::milliseconds timeout);

 private:
  using offset_map = std::map<std::pair<std::string, std::int32_t>, std::int64_t>;

  // The group's committed offsets by topic and partition; RD_KAFKA_OFFSET_INVALID (-1001) where
  // it committed none.
  boost::system::result<offset_map, std::error_code> committed_offsets(
      std::string_view group_id, const std::vector<kafka_topic_partition>& partitions,
      std::chrono::steady_clock::time_point deadline);

  kafka_config config_;
  std::string client_id_;
  client_handle handle_;
};

}  // namespace jobgate::kafka
