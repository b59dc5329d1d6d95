#pragma once

#include <system_error>

namespace jobgate::kafka {

// Class of a failed Kafka operation, which decides how the caller reacts. Codes in
// librdkafka_category() compare equal to one of these: `if (error == kafka_errc::retryable)`.
enum class kafka_errc {
  // Queue full, broker unreachable, timed out, leader moving: the same request may succeed later.
  retryable = 1,
  // The message exceeds message.max.bytes of the producer or the broker's max.message.bytes.
  too_large,
  // Anything else: invalid configuration or argument, unknown topic, authorization, a producer
  // that lost its idempotence state. Retrying does not help.
  fatal,
};

// Category of librdkafka's rd_kafka_resp_err_t values, named "librdkafka"; messages come from
// rd_kafka_err2str. Its codes map to kafka_errc conditions.
const std::error_category& librdkafka_category() noexcept;

// Category of the kafka_errc conditions, named "kafka".
const std::error_category& kafka_condition_category() noexcept;

// Wraps an rd_kafka_resp_err_t value; RD_KAFKA_RESP_ERR_NO_ERROR (0) gives an empty code.
std::error_code make_kafka_error_code(int rd_kafka_resp_err) noexcept;

// The error of every produce call after the producer's fatal error (RD_KAFKA_RESP_ERR__FATAL).
std::error_code producer_fatal_error() noexcept;

std::error_condition make_error_condition(kafka_errc condition) noexcept;

// Returns the class of a librdkafka_category() code. Codes of other categories are fatal.
// The error must not be empty.
kafka_errc classify(const std::error_code& error) noexcept;

}  // namespace jobgate::kafka

template <>
struct std::is_error_condition_enum<jobgate::kafka::kafka_errc> : std::true_type {};
