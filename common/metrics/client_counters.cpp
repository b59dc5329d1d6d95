#include "common/metrics/client_counters.hpp"

#include <atomic>
#include <cstdint>

namespace jobgate::metrics {

namespace {

std::atomic<std::uint64_t> redis_errors{0};
std::atomic<std::uint64_t> redis_reconnects{0};
std::atomic<std::uint64_t> kafka_errors{0};

void write_counter(exposition& out, std::string_view name, std::string_view help,
                   const std::atomic<std::uint64_t>& value) {
  out.begin_family(name, help, "counter");
  out.sample(name, {}, static_cast<double>(value.load(std::memory_order_relaxed)));
}

std::atomic<std::uint64_t>& counter_of(client_event event) noexcept {
  switch (event) {
    case client_event::redis_error:
      return redis_errors;
    case client_event::redis_reconnect:
      return redis_reconnects;
    case client_event::kafka_error:
      break;
  }
  return kafka_errors;
}

}  // namespace

void count_client_event(client_event event) noexcept {
  counter_of(event).fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t client_event_total(client_event event) noexcept {
  return counter_of(event).load(std::memory_order_relaxed);
}

void write_client_counters(exposition& out) {
  write_counter(out, "jobgate_redis_errors_total",
                "Redis connect attempts that failed, connections lost, and commands that failed "
                "in transit, in this process.",
                redis_errors);
  write_counter(out, "jobgate_redis_reconnects_total",
                "Redis connections opened again after they were lost, in this process.",
                redis_reconnects);
  write_counter(out, "jobgate_kafka_errors_total",
                "Errors that librdkafka reported for this process's producers and consumers, "
                "such as brokers going down.",
                kafka_errors);
}

}  // namespace jobgate::metrics
