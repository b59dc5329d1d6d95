#pragma once

#include <cstdint>

#include "common/metrics/metrics_registry.hpp"

// Process-wide counts of errors and reconnects in the Redis and Kafka clients. The clients live
// below the daemons' metrics objects, so both daemons add these to GET /metrics with
// write_client_counters().
namespace jobgate::metrics {

enum class client_event {
  redis_error,  // a failed connect attempt, a lost connection, or a command that failed in transit
  redis_reconnect,  // a connection opened again after it was lost
  kafka_error,      // an error that librdkafka reported through its error callback
};

void count_client_event(client_event event) noexcept;
// The number of events of this kind counted so far in this process.
std::uint64_t client_event_total(client_event event) noexcept;

// Writes jobgate_redis_errors_total, jobgate_redis_reconnects_total and jobgate_kafka_errors_total.
void write_client_counters(exposition& out);

}  // namespace jobgate::metrics
