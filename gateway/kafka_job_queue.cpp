#include "gateway/kafka_job_queue.hpp"

#include <librdkafka/rdkafka.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <utility>

#include "common/jobs/job_codec.hpp"
#include "common/jobs/job_event.hpp"
#include "common/kafka/kafka_error.hpp"
#include "common/log/logger.hpp"

namespace jobgate::gateway {

namespace asio = boost::asio;

namespace {

constexpr auto probe_period = std::chrono::seconds(2);
constexpr auto probe_timeout = std::chrono::milliseconds(1500);
// A metadata request can miss probe_timeout on a machine whose cores are saturated, so the queue
// counts as unreachable only after this many failed probes in a row.
constexpr int failed_probes_to_unreachable = 2;

kafka::kafka_config producer_config(const std::string& brokers,
                                    std::chrono::milliseconds delivery_timeout) {
  kafka::kafka_config config;
  config.brokers = brokers;
  config.client_id = "jobgate-gateway";
  // A client waits for the 202, so a delivery that cannot finish in time fails as retryable.
  config.overrides.emplace_back("message.timeout.ms", std::to_string(delivery_timeout.count()));
  // Every submission waits for its acknowledgement, so a message is sent at once. Under load the
  // messages that arrive while earlier ones are in flight still go out as one batch. In
  // docs/benchmarks.md a linger of 1 ms gave a third less throughput at 8 connections.
  config.overrides.emplace_back("linger.ms", "0");
  return config;
}

}  // namespace

kafka_job_queue::kafka_job_queue(const std::string& brokers,
                                 std::chrono::milliseconds delivery_timeout)
    : config_(producer_config(brokers, delivery_timeout)),
      producer_(std::make_shared<kafka::kafka_producer>(config_)),
      probe_thread_([this](std::stop_token stop) { probe_loop(std::move(stop)); }) {}

void kafka_job_queue::probe_loop(std::stop_token stop) {
  const log::logger logger = log::logger{}.with("component", "kafka_job_queue");
  int failed_probes = 0;
  while (!stop.stop_requested()) {
    std::shared_ptr<kafka::kafka_producer> producer;
    {
      std::shared_lock lock(producer_mutex_);
      producer = producer_;
    }
    std::error_code error = producer->ping(probe_timeout);
    if (error == kafka::make_kafka_error_code(RD_KAFKA_RESP_ERR__FATAL)) {
      reachable_.store(false);
      replace_producer(logger);
      error = producer_->ping(probe_timeout);
    }
    failed_probes = error ? failed_probes + 1 : 0;
    const bool reachable = failed_probes < failed_probes_to_unreachable;
    if (reachable != reachable_.exchange(reachable)) {
      if (reachable) {
        logger.info("Kafka reachable again; accepting jobs");
      } else {
        logger.warn("Kafka unreachable; submissions get 503 until a broker responds",
                    {{"error", error.message()}});
      }
    }
    std::unique_lock lock(probe_mutex_);
    probe_wakeup_.wait_for(lock, stop, probe_period, [] { return false; });
  }
}

asio::awaitable<std::error_code> kafka_job_queue::publish(const job_record& job,
                                                          std::string message) {
  co_return co_await produce(topic_for(job.kind), job.id, std::move(message),
                             job_message_headers(job.tenant, job.traceparent));
}

asio::awaitable<std::error_code> kafka_job_queue::publish_event(std::string job_id,
                                                                std::string event,
                                                                std::string traceparent) {
  kafka::kafka_headers headers = {{"content-type", "application/json"}};
  if (!traceparent.empty()) {
    headers.push_back({"traceparent", std::move(traceparent)});
  }
  co_return co_await produce(std::string(job_events_topic), std::move(job_id), std::move(event),
                             std::move(headers));
}

asio::awaitable<std::error_code> kafka_job_queue::produce(std::string topic, std::string key,
                                                          std::string message,
                                                          kafka::kafka_headers headers) {
  if (!reachable_.load()) {
    co_return kafka::make_kafka_error_code(RD_KAFKA_RESP_ERR__TRANSPORT);
  }

  // The delivery report arrives on the producer's poll thread. The completion is posted back to
  // the coroutine's own executor, so the handler never runs inside librdkafka.
  const std::error_code delivered =
      co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::error_code)>(
          [&](auto handler) {
            auto executor = asio::get_associated_executor(handler);
            auto shared = std::make_shared<decltype(handler)>(std::move(handler));
            auto on_delivery = [shared, executor](const kafka::kafka_delivery& delivery) {
              asio::post(executor, [shared, error = delivery.error]() mutable {
                std::move (*shared)(error);
              });
            };
            std::error_code enqueued;
            {
              std::shared_lock lock(producer_mutex_);
              enqueued = producer_->produce(topic, key, message, headers, std::move(on_delivery));
            }
            if (enqueued) {
              asio::post(executor, [shared, enqueued]() mutable { std::move (*shared)(enqueued); });
            }
          },
          asio::use_awaitable);
  co_return delivered;
}

void kafka_job_queue::replace_producer(const log::logger& logger) {
  logger.error("Kafka producer hit a fatal error; replacing it");
  auto fresh = std::make_shared<kafka::kafka_producer>(config_);
  std::shared_ptr<kafka::kafka_producer> old;
  {
    std::unique_lock lock(producer_mutex_);
    old = std::exchange(producer_, std::move(fresh));
  }
  // Messages still queued on the old producer fail with a purge error, so their clients get 503.
  old->close(std::chrono::seconds(2));
}

void kafka_job_queue::inject_fatal_error(const std::string& reason) {
  std::shared_lock lock(producer_mutex_);
  producer_->inject_fatal_error(reason);
}

void kafka_job_queue::close() {
  probe_thread_.request_stop();
  if (probe_thread_.joinable()) {
    probe_thread_.join();
  }
  producer_->close(std::chrono::seconds(5));
}

}  // namespace jobgate::gateway
