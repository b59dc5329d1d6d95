#include "common/kafka/kafka_error.hpp"

#include <librdkafka/rdkafka.h>

#include <string>

namespace jobgate::kafka {
namespace {

kafka_errc classify_value(int value) noexcept {
  switch (static_cast<rd_kafka_resp_err_t>(value)) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
      return kafka_errc::too_large;

    // Local conditions: the client's queue, connections and timers.
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
    // Broker conditions that pass once leadership, replicas or the coordinator settle.
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
    case RD_KAFKA_RESP_ERR_FETCH_SESSION_ID_NOT_FOUND:
    case RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_PREFERRED_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED:
      return kafka_errc::retryable;

    default:
      return kafka_errc::fatal;
  }
}

class librdkafka_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "librdkafka"; }

  std::string message(int value) const override {
    return rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(value));
  }

  std::error_condition default_error_condition(int value) const noexcept override {
    return make_error_condition(classify_value(value));
  }
};

class kafka_condition_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kafka"; }

  std::string message(int value) const override {
    switch (static_cast<kafka_errc>(value)) {
      case kafka_errc::retryable:
        return "retryable Kafka error: the request may succeed later";
      case kafka_errc::too_large:
        return "Kafka message too large for message.max.bytes or the topic's max.message.bytes";
      case kafka_errc::fatal:
        return "Kafka error that a retry does not fix";
    }
    return "unknown Kafka error class " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& librdkafka_category() noexcept {
  static const librdkafka_category_impl category;
  return category;
}

const std::error_category& kafka_condition_category() noexcept {
  static const kafka_condition_category_impl category;
  return category;
}

std::error_code make_kafka_error_code(int rd_kafka_resp_err) noexcept {
  if (rd_kafka_resp_err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    return {};
  }
  return {rd_kafka_resp_err, librdkafka_category()};
}

std::error_code producer_fatal_error() noexcept {
  return make_kafka_error_code(RD_KAFKA_RESP_ERR__FATAL);
}

std::error_condition make_error_condition(kafka_errc condition) noexcept {
  return {static_cast<int>(condition), kafka_condition_category()};
}

kafka_errc classify(const std::error_code& error) noexcept {
  if (error.category() != librdkafka_category()) {
    return kafka_errc::fatal;
  }
  return classify_value(error.value());
}

}  // namespace jobgate::kafka
