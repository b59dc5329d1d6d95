#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "common/kafka/kafka_producer.hpp"
#include "gateway/job_repository.hpp"

namespace jobgate::gateway {

// Queues jobs on their kind's Kafka topic, keyed by job id, and completes a publish only when the
// broker acknowledged the message (acks=all, idempotent producer).
class kafka_job_queue final : public job_queue {
 public:
  kafka_job_queue(const std::string& brokers, std::chrono::milliseconds delivery_timeout);

  boost::asio::awaitable<std::error_code> publish(const job_record& job,
                                                  std::string message) override;

  // Delivers what is queued within a few seconds and stops the producer.
  void close();

 private:
  kafka::kafka_producer producer_;
};

}  // namespace jobgate::gateway
