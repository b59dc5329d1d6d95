#include "common/kafka/kafka_consumer.hpp"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <stdexcept>

#include "common/kafka/kafka_conf_builder.hpp"
#include "common/kafka/kafka_error.hpp"
#include "common/kafka/partition_list.hpp"
#include "common/log/logger.hpp"
#include "common/metrics/client_counters.hpp"

namespace jobgate::kafka {
namespace {

// Every log line of kafka_consumer goes through here.
template <typename... Args>
void log_consumer(spdlog::level::level_enum level, std::string_view client_id,
                  std::string_view group_id, fmt::format_string<Args...> format, Args&&... args) {
  log::logger{}
      .with("component", "kafka_consumer")
      .with("client", client_id)
      .with("group", group_id)
      .write(log::level_from_spdlog(level), fmt::format(format, std::forward<Args>(args)...), {});
}

std::string describe(const std::vector<kafka_topic_partition>& partitions) {
  std::string text;
  for (const kafka_topic_partition& partition : partitions) {
    if (!text.empty()) {
      text += ',';
    }
    text += partition.topic + '[' + std::to_string(partition.partition) + ']';
  }
  return text.empty() ? "none" : text;
}

kafka_headers copy_headers(rd_kafka_message_t& message) {
  kafka_headers headers;
  rd_kafka_headers_t* list = nullptr;
  // The list belongs to the message; a message without headers returns RD_KAFKA_RESP_ERR__NOENT.
  if (rd_kafka_message_headers(&message, &list) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return headers;
  }
  const char* name = nullptr;
  const void* value = nullptr;
  std::size_t size = 0;
  for (std::size_t index = 0;
       rd_kafka_header_get_all(list, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
       ++index) {
    headers.push_back({name, value ? std::string(static_cast<const char*>(value), size) : ""});
  }
  return headers;
}

kafka_message copy_message(rd_kafka_message_t& message) {
  kafka_message copy;
  copy.topic = rd_kafka_topic_name(message.rkt);
  copy.partition = message.partition;
  copy.offset = message.offset;
  if (message.key) {
    copy.key.assign(static_cast<const char*>(message.key), message.key_len);
  }
  if (message.payload) {
    copy.value.assign(static_cast<const char*>(message.payload), message.len);
  }
  copy.headers = copy_headers(message);
  rd_kafka_timestamp_type_t timestamp_type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  copy.timestamp_ms = rd_kafka_message_timestamp(&message, &timestamp_type);
  return copy;
}

}  // namespace

// librdkafka's C callbacks for kafka_consumer; opaque is the consumer. Both run on the thread
// that calls poll or close.
struct consumer_callbacks {
  static void rebalance(rd_kafka_t* /*handle*/, rd_kafka_resp_err_t error,
                        rd_kafka_topic_partition_list_t* partitions, void* opaque) noexcept {
    static_cast<kafka_consumer*>(opaque)->on_rebalance(error, partitions);
  }

  static void error(rd_kafka_t* /*handle*/, int error, const char* reason, void* opaque) noexcept {
    static_cast<kafka_consumer*>(opaque)->on_error(error, reason);
  }
};

kafka_consumer::kafka_consumer(const kafka_config& config, kafka_rebalance_hooks hooks)
    : client_id_(config.client_id), group_id_(config.group_id), hooks_(std::move(hooks)) {
  if (config.group_id.empty()) {
    throw std::invalid_argument("a Kafka consumer needs a group id (group.id)");
  }
  conf_handle conf = build_conf(config, {
                                            {"group.id", config.group_id},
                                            {"enable.auto.commit", "false"},
                                            {"enable.auto.offset.store", "false"},
                                            {"auto.offset.reset", "earliest"},
                                            {"enable.partition.eof", "false"},
                                        });
  rd_kafka_conf_set_rebalance_cb(conf.get(), &consumer_callbacks::rebalance);
  rd_kafka_conf_set_error_cb(conf.get(), &consumer_callbacks::error);
  rd_kafka_conf_set_opaque(conf.get(), this);

  char error[512] = {};
  handle_.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), error, sizeof error));
  if (!handle_) {
    throw std::runtime_error(std::string("creating the Kafka consumer failed: ") + error);
  }
  // rd_kafka_new owns the configuration once it succeeded.
  conf.release();
  // Client errors then arrive through poll, on the consumer's thread.
  rd_kafka_poll_set_consumer(handle_.get());
  log_consumer(spdlog::level::info, client_id_, group_id_, "started brokers={}", config.brokers);
}

kafka_consumer::~kafka_consumer() {
  close();
}

std::error_code kafka_consumer::subscribe(const std::vector<std::string>& topics) {
  if (closed_) {
    return make_kafka_error_code(RD_KAFKA_RESP_ERR__DESTROY);
  }
  partition_list_handle list(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const std::string& topic : topics) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  const std::error_code error =
      make_kafka_error_code(rd_kafka_subscribe(handle_.get(), list.get()));
  if (error) {
    log_consumer(spdlog::level::err, client_id_, group_id_, "subscribe failed error={}",
                 error.message());
  }
  return error;
}

boost::system::result<std::optional<kafka_message>, std::error_code> kafka_consumer::poll(
    std::chrono::milliseconds timeout) {
  if (closed_) {
    return make_kafka_error_code(RD_KAFKA_RESP_ERR__DESTROY);
  }
  message_handle message(rd_kafka_consumer_poll(handle_.get(), static_cast<int>(timeout.count())));
  if (!message) {
    return std::optional<kafka_message>{};
  }
  if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    return std::optional<kafka_message>{};
  }
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const std::error_code error = make_kafka_error_code(message->err);
    log_consumer(spdlog::level::warn, client_id_, group_id_, "poll failed error={} detail={}",
                 error.message(), rd_kafka_message_errstr(message.get()));
    return error;
  }
  return std::optional<kafka_message>(copy_message(*message));
}

std::error_code kafka_consumer::commit(const kafka_message& message) {
  return commit(kafka_topic_partition{message.topic, message.partition}, message.offset + 1);
}

std::error_code kafka_consumer::commit(const kafka_topic_partition& partition,
                                       std::int64_t next_offset) {
  if (closed_) {
    return make_kafka_error_code(RD_KAFKA_RESP_ERR__DESTROY);
  }
  partition_list_handle list = make_partition_list({partition});
  list->elems[0].offset = next_offset;
  std::error_code error = make_kafka_error_code(rd_kafka_commit(handle_.get(), list.get(), 0));
  if (!error) {
    error = make_kafka_error_code(list->elems[0].err);
  }
  if (error) {
    log_consumer(spdlog::level::warn, client_id_, group_id_,
                 "commit failed topic={} partition={} offset={} error={}", partition.topic,
                 partition.partition, next_offset, error.message());
  }
  return error;
}

std::error_code kafka_consumer::pause(const std::vector<kafka_topic_partition>& partitions) {
  return change_fetching(partitions, true);
}

std::error_code kafka_consumer::resume(const std::vector<kafka_topic_partition>& partitions) {
  return change_fetching(partitions, false);
}

std::error_code kafka_consumer::change_fetching(
    const std::vector<kafka_topic_partition>& partitions, bool paused) {
  if (closed_) {
    return make_kafka_error_code(RD_KAFKA_RESP_ERR__DESTROY);
  }
  partition_list_handle list = make_partition_list(partitions);
  const rd_kafka_resp_err_t result = paused ? rd_kafka_pause_partitions(handle_.get(), list.get())
                                            : rd_kafka_resume_partitions(handle_.get(), list.get());
  std::error_code error = make_kafka_error_code(result);
  for (int i = 0; !error && i < list->cnt; ++i) {
    error = make_kafka_error_code(list->elems[i].err);
  }
  if (error) {
    log_consumer(spdlog::level::warn, client_id_, group_id_, "{} failed partitions={} error={}",
                 paused ? "pause" : "resume", describe(partitions), error.message());
  }
  return error;
}

boost::system::result<std::vector<kafka_topic_partition>, std::error_code>
kafka_consumer::assignment() const {
  if (closed_) {
    return make_kafka_error_code(RD_KAFKA_RESP_ERR__DESTROY);
  }
  rd_kafka_topic_partition_list_t* raw = nullptr;
  const std::error_code error = make_kafka_error_code(rd_kafka_assignment(handle_.get(), &raw));
  partition_list_handle list(raw);
  if (error) {
    return error;
  }
  return to_topic_partitions(*list);
}

std::error_code kafka_consumer::close() {
  if (closed_) {
    return {};
  }
  closed_ = true;
  // Leaving the group runs the revoke callback and hooks_.on_revoked on this thread.
  const std::error_code error = make_kafka_error_code(rd_kafka_consumer_close(handle_.get()));
  if (error) {
    log_consumer(spdlog::level::warn, client_id_, group_id_, "close failed error={}",
                 error.message());
  }
  handle_.reset();
  log_consumer(spdlog::level::info, client_id_, group_id_, "closed");
  return error;
}

void kafka_consumer::on_rebalance(int error, rd_kafka_topic_partition_list_t* partitions) noexcept {
  try {
    const std::vector<kafka_topic_partition> changed = to_topic_partitions(*partitions);
    const bool cooperative =
        std::strcmp(rd_kafka_rebalance_protocol(handle_.get()), "COOPERATIVE") == 0;

    if (error == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      // Assign first, so the hook may already pause or seek the new partitions.
      if (cooperative) {
        log_assign_error(error_handle(rd_kafka_incremental_assign(handle_.get(), partitions)));
      } else {
        rd_kafka_assign(handle_.get(), partitions);
      }
      log_consumer(spdlog::level::info, client_id_, group_id_, "assigned partitions={}",
                   describe(changed));
      run_hook(hooks_.on_assigned, changed, "on_assigned");
      return;
    }

    if (error == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
      const bool lost = rd_kafka_assignment_lost(handle_.get()) != 0;
      log_consumer(lost ? spdlog::level::warn : spdlog::level::info, client_id_, group_id_,
                   "{} partitions={}", lost ? "lost" : "revoked", describe(changed));
      // The hook runs while the partitions are still assigned, so it can commit their offsets.
      run_hook(hooks_.on_revoked, changed, "on_revoked");
      if (cooperative) {
        log_assign_error(error_handle(rd_kafka_incremental_unassign(handle_.get(), partitions)));
      } else {
        rd_kafka_assign(handle_.get(), nullptr);
      }
      return;
    }

    log_consumer(spdlog::level::err, client_id_, group_id_, "rebalance failed error={}",
                 rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(error)));
    rd_kafka_assign(handle_.get(), nullptr);
  } catch (const std::exception& failure) {
    log_consumer(spdlog::level::err, client_id_, group_id_, "rebalance handling failed: {}",
                 failure.what());
  } catch (...) {
    log_consumer(spdlog::level::err, client_id_, group_id_, "rebalance handling failed");
  }
}

void kafka_consumer::log_assign_error(error_handle error) noexcept {
  if (error) {
    log_consumer(spdlog::level::err, client_id_, group_id_, "incremental assignment failed: {}",
                 rd_kafka_error_string(error.get()));
  }
}

void kafka_consumer::run_hook(const rebalance_hook& hook,
                              const std::vector<kafka_topic_partition>& partitions,
                              std::string_view name) noexcept {
  if (!hook) {
    return;
  }
  // A throwing hook must not skip the assign or unassign call that follows or precedes it.
  try {
    hook(partitions);
  } catch (const std::exception& failure) {
    log_consumer(spdlog::level::err, client_id_, group_id_, "{} hook threw: {}", name,
                 failure.what());
  } catch (...) {
    log_consumer(spdlog::level::err, client_id_, group_id_, "{} hook threw a non-exception", name);
  }
}

void kafka_consumer::on_error(int error, const char* reason) noexcept {
  metrics::count_client_event(metrics::client_event::kafka_error);
  try {
    // Connection problems are reported here and repair themselves, so they are warnings.
    log_consumer(spdlog::level::warn, client_id_, group_id_, "client error={} reason={}",
                 rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(error)), reason);
  } catch (...) {
    // Logging failed; nothing else to do on librdkafka's thread.
  }
}

}  // namespace jobgate::kafka
