#include "common/kafka/kafka_error.hpp"

#include <librdkafka/rdkafka.h>

#include <catch2/catch.hpp>

// Needs no broker: the classification of librdkafka's error codes, which decides between 503
// with Retry-After, 413 and 500 at the gateway.

using jobgate::kafka::classify;
using jobgate::kafka::kafka_errc;
using jobgate::kafka::make_kafka_error_code;

TEST_CASE("kafka error classification table", "[kafka]") {
  struct row {
    rd_kafka_resp_err_t code;
    kafka_errc expected;
  };
  const row rows[] = {
      {RD_KAFKA_RESP_ERR__QUEUE_FULL, kafka_errc::retryable},
      {RD_KAFKA_RESP_ERR__TRANSPORT, kafka_errc::retryable},
      {RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, kafka_errc::retryable},
      {RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, kafka_errc::retryable},
      {RD_KAFKA_RESP_ERR__TIMED_OUT, kafka_errc::retryable},
      {RD_KAFKA_RESP_ERR__PURGE_QUEUE, kafka_errc::retryable},
      {RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, kafka_errc::retryable},
      {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, kafka_errc::retryable},
      {RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, kafka_errc::retryable},
      {RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, kafka_errc::retryable},
      {RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, kafka_errc::too_large},
      {RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE, kafka_errc::too_large},
      {RD_KAFKA_RESP_ERR__FATAL, kafka_errc::fatal},
      {RD_KAFKA_RESP_ERR__INVALID_ARG, kafka_errc::fatal},
      {RD_KAFKA_RESP_ERR__DESTROY, kafka_errc::fatal},
      {RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, kafka_errc::fatal},
      {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, kafka_errc::fatal},
      {RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, kafka_errc::fatal},
  };
  for (const row& entry : rows) {
    const std::error_code error = make_kafka_error_code(entry.code);
    INFO(rd_kafka_err2name(entry.code));
    REQUIRE(error);
    CHECK(error.value() == entry.code);
    CHECK(std::string(error.category().name()) == "librdkafka");
    CHECK(error.message() == rd_kafka_err2str(entry.code));
    CHECK(classify(error) == entry.expected);
    CHECK(error == entry.expected);
  }
}

TEST_CASE("kafka no error is empty", "[kafka]") {
  CHECK_FALSE(make_kafka_error_code(RD_KAFKA_RESP_ERR_NO_ERROR));
}

TEST_CASE("kafka foreign error counts fatal", "[kafka]") {
  const std::error_code foreign = std::make_error_code(std::errc::timed_out);
  CHECK(classify(foreign) == kafka_errc::fatal);
  CHECK_FALSE(foreign == kafka_errc::retryable);
}

TEST_CASE("kafka condition messages name class", "[kafka]") {
  CHECK(std::error_condition(kafka_errc::retryable).message().find("retryable") !=
        std::string::npos);
  CHECK(std::error_condition(kafka_errc::too_large).message().find("too large") !=
        std::string::npos);
  CHECK(std::error_condition(kafka_errc::fatal).message().find("retry does not fix") !=
        std::string::npos);
  CHECK(std::string(std::error_condition(kafka_errc::fatal).category().name()) == "kafka");
}
