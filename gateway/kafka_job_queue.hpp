#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>

#include "common/kafka/kafka_producer.hpp"
#include "common/log/logger.hpp"
#include "gateway/job_repository.hpp"

namespace jobgate::gateway {

// Queues jobs on their kind's Kafka topic, keyed by job id, and completes a publish only when the
// broker acknowledged the message (acks=all, idempotent producer).
class kafka_job_queue final : public job_queue {
 public:
  kafka_job_queue(const std::string& brokers, std::chrono::milliseconds delivery_timeout);

  boost::asio::awaitable<std::error_code> publish(const job_record& job,
                                                  std::string message) override;
  boost::asio::awaitable<std::error_code> publish_event(std::string job_id, std::string event,
                                                        std::string traceparent) override;

  // Set by a background probe that requests metadata from a broker every two seconds. Two failed
  // probes in a row mark the queue unreachable, and one success marks it reachable. While it is
  // unreachable, publish fails at once as retryable instead of waiting out the delivery timeout.
  // After a fatal producer error (an idempotence sequence failure) the probe replaces the producer.
  bool reachable() const override { return reachable_.load(); }

  // Puts the current producer into librdkafka's fatal state, as an idempotence sequence failure
  // would, so fault tests can check the replacement.
  void inject_fatal_error(const std::string& reason);

  // Delivers what is queued within a few seconds and stops the producer.
  void close();

 private:
  void probe_loop(std::stop_token stop);

  // Produces one message and completes with the broker's acknowledgement or the error.
  boost::asio::awaitable<std::error_code> produce(std::string topic, std::string key,
                                                  std::string message,
                                                  kafka::kafka_headers headers);

  // Replaces a producer that hit a fatal error with a new one; the old one is closed afterwards.
  void replace_producer(const log::logger& logger);

  kafka::kafka_config config_;
  // Publishes hold it shared while they enqueue; the probe holds it exclusively to swap producers,
  // so no produce call runs on a producer that is being closed.
  std::shared_mutex producer_mutex_;
  std::shared_ptr<kafka::kafka_producer> producer_;
  std::atomic<bool> reachable_{true};
  std::mutex probe_mutex_;
  std::condition_variable_any probe_wakeup_;
  std::jthread probe_thread_;
};

}  // namespace jobgate::gateway
