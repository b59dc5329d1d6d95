#include "common/kafka/kafka_admin.hpp"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <thread>
#include <utility>

#include "common/kafka/kafka_conf_builder.hpp"
#include "common/kafka/kafka_error.hpp"
#include "common/kafka/partition_list.hpp"
#include "common/log/logger.hpp"

namespace jobgate::kafka {
namespace {

using steady_clock = std::chrono::steady_clock;

// Admin results arrive on a queue; allow this much beyond the request timeout for the event.
constexpr std::chrono::milliseconds result_margin{1'000};
constexpr std::chrono::milliseconds retry_backoff{100};

// Every log line of kafka_admin goes through here.
template <typename... Args>
void log_admin(spdlog::level::level_enum level, std::string_view client_id,
               fmt::format_string<Args...> format, Args&&... args) {
  log::logger{}
      .with("component", "kafka_admin")
      .with("client", client_id)
      .write(log::level_from_spdlog(level), fmt::format(format, std::forward<Args>(args)...), {});
}

// Milliseconds left until deadline, at least 1 so that librdkafka never reads it as "no wait".
int remaining_ms(steady_clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady_clock::now()).count();
  return static_cast<int>(std::max<std::int64_t>(1, left));
}

// Sleeps before another attempt; returns false, without sleeping, when the deadline would pass.
bool wait_before_retry(steady_clock::time_point deadline) {
  if (steady_clock::now() + retry_backoff >= deadline) {
    return false;
  }
  std::this_thread::sleep_for(retry_backoff);
  return true;
}

admin_options_handle make_options(rd_kafka_t* handle, rd_kafka_admin_op_t operation,
                                  int timeout_ms) {
  admin_options_handle options(rd_kafka_AdminOptions_new(handle, operation));
  char error[256] = {};
  rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms, error, sizeof error);
  if (operation == RD_KAFKA_ADMIN_OP_CREATETOPICS) {
    rd_kafka_AdminOptions_set_operation_timeout(options.get(), timeout_ms, error, sizeof error);
  }
  return options;
}

// Waits for the result event of one admin request and checks its request-level error.
boost::system::result<event_handle, std::error_code> wait_for_result(rd_kafka_queue_t* queue,
                                                                     int timeout_ms) {
  event_handle event(
      rd_kafka_queue_poll(queue, timeout_ms + static_cast<int>(result_margin.count())));
  if (!event) {
    return make_kafka_error_code(RD_KAFKA_RESP_ERR__TIMED_OUT);
  }
  if (const std::error_code error = make_kafka_error_code(rd_kafka_event_error(event.get()))) {
    return error;
  }
  return event;
}

}  // namespace

kafka_admin::kafka_admin(const kafka_config& config)
    : config_(config), client_id_(config.client_id) {
  conf_handle conf = build_conf(config, {});
  char error[512] = {};
  handle_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), error, sizeof error));
  if (!handle_) {
    throw std::runtime_error(std::string("creating the Kafka admin client failed: ") + error);
  }
  // rd_kafka_new owns the configuration once it succeeded.
  conf.release();
}

boost::system::result<std::vector<kafka_topic_info>, std::error_code> kafka_admin::list_topics(
    std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* raw = nullptr;
  const std::error_code error = make_kafka_error_code(
      rd_kafka_metadata(handle_.get(), 1, nullptr, &raw, static_cast<int>(timeout.count())));
  metadata_handle metadata(raw);
  if (error) {
    log_admin(spdlog::level::warn, client_id_, "metadata request failed error={}", error.message());
    return error;
  }

  std::vector<kafka_topic_info> topics;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& topic = metadata->topics[i];
    if (topic.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      topics.push_back({topic.topic, topic.partition_cnt});
    }
  }
  std::sort(topics.begin(), topics.end(),
            [](const kafka_topic_info& a, const kafka_topic_info& b) { return a.name < b.name; });
  return topics;
}

std::error_code kafka_admin::create_topic(std::string_view name, int partitions,
                                          int replication_factor,
                                          std::chrono::milliseconds timeout) {
  const std::string topic_name(name);
  char error_text[512] = {};
  new_topic_handle topic(rd_kafka_NewTopic_new(topic_name.c_str(), partitions, replication_factor,
                                               error_text, sizeof error_text));
  if (!topic) {
    log_admin(spdlog::level::err, client_id_, "invalid new topic name={} error={}", topic_name,
              error_text);
    return make_kafka_error_code(RD_KAFKA_RESP_ERR__INVALID_ARG);
  }

  const int timeout_ms = static_cast<int>(timeout.count());
  admin_options_handle options =
      make_options(handle_.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout_ms);
  queue_handle queue(rd_kafka_queue_new(handle_.get()));
  rd_kafka_NewTopic_t* requests[] = {topic.get()};
  rd_kafka_CreateTopics(handle_.get(), requests, 1, options.get(), queue.get());

  auto event = wait_for_result(queue.get(), timeout_ms);
  if (!event) {
    log_admin(spdlog::level::warn, client_id_, "creating topic failed name={} error={}", topic_name,
              event.error().message());
    return event.error();
  }
  std::size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event->get()), &count);
  for (std::size_t i = 0; i < count; ++i) {
    if (const std::error_code error =
            make_kafka_error_code(rd_kafka_topic_result_error(results[i]))) {
      const char* detail = rd_kafka_topic_result_error_string(results[i]);
      log_admin(spdlog::level::info, client_id_, "creating topic failed name={} error={} detail={}",
                topic_name, error.message(), detail ? detail : "");
      return error;
    }
  }
  log_admin(spdlog::level::info, client_id_, "created topic name={} partitions={}", topic_name,
            partitions);
  return {};
}

boost::system::result<std::vector<kafka_partition_lag>, std::error_code> kafka_admin::consumer_lag(
    std::string_view group_id, const std::vector<std::string>& topics,
    std::chrono::milliseconds timeout) {
  const auto deadline = steady_clock::now() + timeout;

  // Partitions of the requested topics, from cluster metadata.
  auto listed = list_topics(timeout);
  if (!listed) {
    return listed.error();
  }
  std::vector<kafka_topic_partition> partitions;
  for (const std::string& topic : topics) {
    const auto found =
        std::find_if(listed->begin(), listed->end(),
                     [&](const kafka_topic_info& info) { return info.name == topic; });
    if (found == listed->end()) {
      return make_kafka_error_code(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
    }
    for (std::int32_t partition = 0; partition < found->partitions; ++partition) {
      partitions.push_back({topic, partition});
    }
  }

  // The group's committed offsets for those partitions. Right after a broker starts, the group
  // coordinator may still be loading, so retryable errors are retried until the deadline.
  auto committed = committed_offsets(group_id, partitions, deadline);
  while (!committed && committed.error() == kafka_errc::retryable && wait_before_retry(deadline)) {
    committed = committed_offsets(group_id, partitions, deadline);
  }
  if (!committed) {
    log_admin(spdlog::level::warn, client_id_, "listing offsets failed group={} error={}", group_id,
              committed.error().message());
    return committed.error();
  }

  // Log start and end of each partition.
  std::vector<kafka_partition_lag> lags;
  lags.reserve(partitions.size());
  for (const kafka_topic_partition& partition : partitions) {
    kafka_partition_lag lag;
    lag.topic = partition.topic;
    lag.partition = partition.partition;
    // A partition created moments ago may not have a leader yet, which is a retryable error.
    std::error_code error;
    do {
      error = make_kafka_error_code(rd_kafka_query_watermark_offsets(
          handle_.get(), partition.topic.c_str(), partition.partition, &lag.low_watermark,
          &lag.high_watermark, remaining_ms(deadline)));
    } while (error == kafka_errc::retryable && wait_before_retry(deadline));
    if (error) {
      log_admin(spdlog::level::warn, client_id_,
                "watermark query failed topic={} partition={} error={}", partition.topic,
                partition.partition, error.message());
      return error;
    }
    const auto stored = committed->find({partition.topic, partition.partition});
    // librdkafka reports "nothing committed" as RD_KAFKA_OFFSET_INVALID (-1001).
    if (stored != committed->end() && stored->second >= 0) {
      lag.committed_offset = stored->second;
    }
    const std::int64_t position =
        lag.committed_offset >= 0 ? lag.committed_offset : lag.low_watermark;
    lag.lag = std::max<std::int64_t>(0, lag.high_watermark - position);
    lags.push_back(std::move(lag));
  }
  return lags;
}

boost::system::result<kafka_admin::offset_map, std::error_code> kafka_admin::committed_offsets(
    std::string_view group_id, const std::vector<kafka_topic_partition>& partitions,
    std::chrono::steady_clock::time_point deadline) {
  // NOTE: librdkafka 2.0.2 crashes (null group pointer) in rd_kafka_ListConsumerGroupOffsets when
  // the broker returns NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS to a handle without
  // group.id. So a consumer handle for the group reads the offsets with rd_kafka_committed. It
  // never subscribes, so it never joins the group, and rd_kafka_committed retries those errors.
  kafka_config group_config = config_;
  group_config.group_id = std::string(group_id);
  conf_handle conf = build_conf(group_config, {
                                                  {"group.id", group_config.group_id},
                                                  {"enable.auto.commit", "false"},
                                              });
  char error_text[512] = {};
  client_handle reader(rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), error_text, sizeof error_text));
  if (!reader) {
    log_admin(spdlog::level::err, client_id_, "creating an offset reader failed: {}", error_text);
    return make_kafka_error_code(RD_KAFKA_RESP_ERR__INVALID_ARG);
  }
  // rd_kafka_new owns the configuration once it succeeded.
  conf.release();

  partition_list_handle list = make_partition_list(partitions);
  std::error_code error =
      make_kafka_error_code(rd_kafka_committed(reader.get(), list.get(), remaining_ms(deadline)));
  offset_map committed;
  for (int i = 0; !error && i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& entry = list->elems[i];
    error = make_kafka_error_code(entry.err);
    committed[{entry.topic, entry.partition}] = entry.offset;
  }
  rd_kafka_consumer_close(reader.get());
  if (error) {
    return error;
  }
  return committed;
}

}  // namespace jobgate::kafka
