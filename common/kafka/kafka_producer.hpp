#pragma once

#include <atomic>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "common/kafka/delivery_callback.hpp"
#include "common/kafka/kafka_config.hpp"
#include "common/kafka/kafka_handles.hpp"
#include "common/kafka/kafka_message.hpp"

namespace jobgate::kafka {

// A librdkafka producer with idempotence on and acks=all: a successful delivery report means every
// in-sync replica stored the message, and librdkafka's own retries never store it twice.
//
// A background thread owned by the producer polls librdkafka and runs every delivery callback,
// so callbacks must be short and must not block on another delivery. produce and flush are
// thread-safe; close and the destructor must not run concurrently with produce. The object is
// neither copyable nor movable because librdkafka keeps its address.
class kafka_producer {
 public:
  // Builds the client and starts the poll thread. Defaults: enable.idempotence=true, acks=all,
  // message.timeout.ms=30000 (a delivery without a broker response fails as retryable after
  // 30 s). config.overrides may change them. Throws std::invalid_argument for an invalid setting
  // and std::runtime_error when librdkafka cannot create the client.
  explicit kafka_producer(const kafka_config& config);

  // Calls close with a 10 s timeout unless close ran already.
  ~kafka_producer();

  kafka_producer(const kafka_producer&) = delete;
  kafka_producer& operator=(const kafka_producer&) = delete;

  // Enqueues a message. An empty key means no key, so the partitioner picks a partition.
  // When the returned code is empty, on_delivery runs exactly once on the poll thread with the
  // broker's delivery report or the local failure, such as a timeout. When it is not empty, the
  // message was not enqueued and on_delivery is destroyed without being called. Immediate
  // failures: queue full (retryable), message larger than message.max.bytes (too_large), and
  // closed producer or invalid topic (fatal).
  template <typename Handler>
  std::error_code produce(std::string_view topic, std::string_view key, std::string_view value,
                          const kafka_headers& headers, Handler&& on_delivery) {
    return produce_with_callback(topic, key, value, headers,
                                 delivery_callback::wrap(std::forward<Handler>(on_delivery)));
  }

  std::error_code produce_with_callback(std::string_view topic, std::string_view key,
                                        std::string_view value, const kafka_headers& headers,
                                        std::unique_ptr<delivery_callback> on_delivery);

  // Produces and waits for the delivery report. A wait that exceeds timeout returns
  // RD_KAFKA_RESP_ERR__TIMED_OUT (retryable) although the message may still be delivered later.
  // Must not be called from a delivery callback: the poll thread would wait for itself.
  boost::system::result<kafka_delivery, std::error_code> produce_sync(
      std::string_view topic, std::string_view key, std::string_view value,
      const kafka_headers& headers, std::chrono::milliseconds timeout);

  // Waits until every enqueued message has its delivery callback done, or timeout passes
  // (RD_KAFKA_RESP_ERR__TIMED_OUT).
  std::error_code flush(std::chrono::milliseconds timeout);

  // Flushes within timeout, then purges what is left, whose callbacks run with a purge error
  // (retryable), stops the poll thread and rejects later produce calls. Runs once; later calls
  // return at once.
  void close(std::chrono::milliseconds timeout);

  // Requests cluster metadata from a broker and waits up to timeout. Returns an empty code when a
  // broker responded, the fatal error code after a fatal error, else a retryable error. Blocks the
  // calling thread.
  std::error_code ping(std::chrono::milliseconds timeout);

  // Puts the producer into the fatal state that an idempotence sequence failure causes
  // (librdkafka's rd_kafka_test_fatal_error), for fault tests.
  void inject_fatal_error(const std::string& reason);

  // Number of messages and callbacks that librdkafka has not finished (rd_kafka_outq_len).
  int pending() const;

 private:
  void poll_loop(std::stop_token stop);
  void on_delivery_report(const ::rd_kafka_message_s& message) noexcept;
  void on_error(int error, const char* reason) noexcept;

  // Holds librdkafka's C callbacks (noexcept trampolines into the members above).
  friend struct producer_callbacks;

  std::string client_id_;
  client_handle handle_;
  std::atomic<bool> closed_{false};
  std::jthread poll_thread_;
};

}  // namespace jobgate::kafka
