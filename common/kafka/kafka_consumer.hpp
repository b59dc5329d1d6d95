#pragma once

#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/kafka/kafka_config.hpp"
#include "common/kafka/kafka_handles.hpp"
#include "common/kafka/kafka_message.hpp"

namespace jobgate::kafka {

// Called from inside kafka_consumer::poll (or close) when the group assigns or takes away
// partitions. on_revoked runs before the partitions are given up, so it is the last moment to
// commit their offsets. After a lost assignment (session timed out) such commits fail.
using rebalance_hook = std::function<void(const std::vector<kafka_topic_partition>&)>;

struct kafka_rebalance_hooks {
  rebalance_hook on_assigned;
  rebalance_hook on_revoked;
};

// A member of a Kafka consumer group with manual offset commits: enable.auto.commit=false, so a
// message counts as processed only when commit(message) succeeded. A message whose offset
// was never committed is delivered again to whichever member owns its partition next.
//
// Not thread-safe: one thread calls every member function, and the rebalance hooks run on that
// thread inside poll. Neither copyable nor movable because librdkafka keeps its address.
class kafka_consumer {
 public:
  // Builds the client. config.group_id is required. Defaults: enable.auto.commit=false,
  // enable.auto.offset.store=false, auto.offset.reset=earliest (a new group starts at the oldest
  // message, so no job is skipped), enable.partition.eof=false; config.overrides may change
  // them. Throws std::invalid_argument for a missing group or invalid setting and
  // std::runtime_error when librdkafka cannot create the client.
  kafka_consumer(const kafka_config& config, kafka_rebalance_hooks hooks = {});

  // Calls close unless close ran already.
  ~kafka_consumer();

  kafka_consumer(const kafka_consumer&) = delete;
  kafka_consumer& operator=(const kafka_consumer&) = delete;

  // Joins the group for these topics, replacing an earlier subscription. The join itself happens
  // during later poll calls.
  std::error_code subscribe(const std::vector<std::string>& topics);

  // Waits up to timeout for the next message. Returns an empty optional when none arrived in
  // time. Returns an error for a consumer-level failure reported by the broker or librdkafka,
  // such as a subscribed topic that does not exist (RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART).
  // The consumer stays usable after such an error.
  boost::system::result<std::optional<kafka_message>, std::error_code> poll(
      std::chrono::milliseconds timeout);

  // Commits message.offset + 1 for the message's partition and waits for the broker's response.
  std::error_code commit(const kafka_message& message);

  // Commits next_offset (the offset of the next message to read) for one partition, synchronously.
  std::error_code commit(const kafka_topic_partition& partition, std::int64_t next_offset);

  // Stops or restarts fetching from these assigned partitions. A paused partition keeps its
  // group membership, so a long job can run while poll keeps the member alive.
  std::error_code pause(const std::vector<kafka_topic_partition>& partitions);
  std::error_code resume(const std::vector<kafka_topic_partition>& partitions);

  // Partitions currently assigned to this member.
  boost::system::result<std::vector<kafka_topic_partition>, std::error_code> assignment() const;

  // Leaves the group (on_revoked runs first) and stops the client. Runs once; later calls and
  // every other member function afterwards return RD_KAFKA_RESP_ERR__DESTROY.
  std::error_code close();

 private:
  void on_rebalance(int error, ::rd_kafka_topic_partition_list_s* partitions) noexcept;
  void on_error(int error, const char* reason) noexcept;
  void log_assign_error(error_handle error) noexcept;
  void run_hook(const rebalance_hook& hook, const std::vector<kafka_topic_partition>& partitions,
                std::string_view name) noexcept;
  std::error_code change_fetching(const std::vector<kafka_topic_partition>& partitions,
                                  bool paused);

  // Holds librdkafka's C callbacks (noexcept trampolines into the members above).
  friend struct consumer_callbacks;

  std::string client_id_;
  std::string group_id_;
  kafka_rebalance_hooks hooks_;
  client_handle handle_;
  bool closed_ = false;
};

}  // namespace jobgate::kafka
