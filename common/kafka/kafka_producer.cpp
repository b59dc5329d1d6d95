#include "common/kafka/kafka_producer.hpp"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <future>
#include <stdexcept>

#include "common/kafka/kafka_conf_builder.hpp"
#include "common/kafka/kafka_error.hpp"
#include "common/log/logger.hpp"
#include "common/metrics/client_counters.hpp"

namespace jobgate::kafka {
namespace {

constexpr std::chrono::milliseconds poll_interval{100};
constexpr std::chrono::milliseconds default_close_timeout{10'000};
// After a purge, librdkafka still has to hand the purged messages' reports to the poll thread.
constexpr std::chrono::milliseconds purge_drain_timeout{2'000};

// Every log line of kafka_producer goes through here.
template <typename... Args>
void log_producer(spdlog::level::level_enum level, std::string_view client_id,
                  fmt::format_string<Args...> format, Args&&... args) {
  log::logger{}
      .with("component", "kafka_producer")
      .with("client", client_id)
      .write(log::level_from_spdlog(level), fmt::format(format, std::forward<Args>(args)...), {});
}

}  // namespace

// librdkafka's C callbacks for kafka_producer; opaque is the producer. Both run on the poll
// thread, inside rd_kafka_poll.
struct producer_callbacks {
  static void delivery(rd_kafka_t* /*handle*/, const rd_kafka_message_t* message,
                       void* opaque) noexcept {
    static_cast<kafka_producer*>(opaque)->on_delivery_report(*message);
  }

  static void error(rd_kafka_t* /*handle*/, int error, const char* reason, void* opaque) noexcept {
    static_cast<kafka_producer*>(opaque)->on_error(error, reason);
  }
};

kafka_producer::kafka_producer(const kafka_config& config) : client_id_(config.client_id) {
  conf_handle conf = build_conf(config, {
                                            {"enable.idempotence", "true"},
                                            {"acks", "all"},
                                            {"message.timeout.ms", "30000"},
                                        });
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &producer_callbacks::delivery);
  rd_kafka_conf_set_error_cb(conf.get(), &producer_callbacks::error);
  rd_kafka_conf_set_opaque(conf.get(), this);

  char error[512] = {};
  handle_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), error, sizeof error));
  if (!handle_) {
    throw std::runtime_error(std::string("creating the Kafka producer failed: ") + error);
  }
  // rd_kafka_new owns the configuration once it succeeded.
  conf.release();

  poll_thread_ = std::jthread([this](std::stop_token stop) { poll_loop(stop); });
  log_producer(spdlog::level::info, client_id_, "started brokers={}", config.brokers);
}

kafka_producer::~kafka_producer() {
  close(default_close_timeout);
}

std::error_code kafka_producer::produce_with_callback(
    std::string_view topic, std::string_view key, std::string_view value,
    const kafka_headers& headers, std::unique_ptr<delivery_callback> on_delivery) {
  if (closed_.load(std::memory_order_acquire)) {
    return make_kafka_error_code(RD_KAFKA_RESP_ERR__DESTROY);
  }
  if (topic.empty()) {
    return make_kafka_error_code(RD_KAFKA_RESP_ERR__INVALID_ARG);
  }

  headers_handle header_list;
  if (!headers.empty()) {
    header_list.reset(rd_kafka_headers_new(headers.size()));
    for (const kafka_header& header : headers) {
      rd_kafka_header_add(header_list.get(), header.name.data(),
                          static_cast<ssize_t>(header.name.size()), header.value.data(),
                          static_cast<ssize_t>(header.value.size()));
    }
  }

  // librdkafka keeps topic names NUL-terminated; the copy costs less than a topic handle cache.
  const std::string topic_name(topic);
  const auto result = rd_kafka_producev(
      handle_.get(), RD_KAFKA_V_TOPIC(topic_name.c_str()),
      RD_KAFKA_V_KEY(key.empty() ? nullptr : key.data(), key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(header_list.get()),
      RD_KAFKA_V_OPAQUE(on_delivery.get()), RD_KAFKA_V_END);
  if (result != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // On failure the headers and the callback stay ours and are freed here.
    return make_kafka_error_code(result);
  }

  // librdkafka owns the headers now, and the delivery report hands the callback back.
  header_list.release();
  on_delivery.release();
  return {};
}

boost::system::result<kafka_delivery, std::error_code> kafka_producer::produce_sync(
    std::string_view topic, std::string_view key, std::string_view value,
    const kafka_headers& headers, std::chrono::milliseconds timeout) {
  // kafka_delivery is an aggregate, so result needs in_place_error to tell an error apart.
  // The promise is shared so that a report arriving after the timeout still has a target.
  auto report = std::make_shared<std::promise<kafka_delivery>>();
  std::future<kafka_delivery> delivered = report->get_future();
  const std::error_code enqueue_error =
      produce(topic, key, value, headers,
              [report](const kafka_delivery& delivery) { report->set_value(delivery); });
  if (enqueue_error) {
    return {boost::system::in_place_error, enqueue_error};
  }

  if (delivered.wait_for(timeout) != std::future_status::ready) {
    return {boost::system::in_place_error, make_kafka_error_code(RD_KAFKA_RESP_ERR__TIMED_OUT)};
  }
  kafka_delivery delivery = delivered.get();
  if (delivery.error) {
    return {boost::system::in_place_error, delivery.error};
  }
  return delivery;
}

std::error_code kafka_producer::ping(std::chrono::milliseconds timeout) {
  if (closed_.load()) {
    return make_kafka_error_code(RD_KAFKA_RESP_ERR__DESTROY);
  }
  // After a fatal error every produce fails, although the brokers still respond.
  if (rd_kafka_fatal_error(handle_.get(), nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_kafka_error_code(RD_KAFKA_RESP_ERR__FATAL);
  }
  const rd_kafka_metadata_t* metadata = nullptr;
  // A metadata request for no topic still needs a broker's response, which is all a ping needs.
  const rd_kafka_resp_err_t error =
      rd_kafka_metadata(handle_.get(), 0, nullptr, &metadata, static_cast<int>(timeout.count()));
  if (metadata != nullptr) {
    rd_kafka_metadata_destroy(metadata);
  }
  return make_kafka_error_code(error);
}

void kafka_producer::inject_fatal_error(const std::string& reason) {
  rd_kafka_test_fatal_error(handle_.get(), RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                            reason.c_str());
}

std::error_code kafka_producer::flush(std::chrono::milliseconds timeout) {
  // Waiting on the queue length, rather than rd_kafka_flush, leaves every callback on the poll
  // thread; rd_kafka_flush would run them on the caller's thread.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (rd_kafka_outq_len(handle_.get()) > 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return make_kafka_error_code(RD_KAFKA_RESP_ERR__TIMED_OUT);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return {};
}

void kafka_producer::close(std::chrono::milliseconds timeout) {
  if (closed_.exchange(true, std::memory_order_acq_rel)) {
    return;
  }

  if (flush(timeout)) {
    log_producer(spdlog::level::warn, client_id_,
                 "messages still pending after {} ms at close, purging count={}", timeout.count(),
                 pending());
    rd_kafka_purge(handle_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    if (flush(purge_drain_timeout)) {
      log_producer(spdlog::level::err, client_id_,
                   "delivery callbacks never ran for count={}; their handlers are lost", pending());
    }
  }

  poll_thread_.request_stop();
  if (poll_thread_.joinable()) {
    poll_thread_.join();
  }
  log_producer(spdlog::level::info, client_id_, "closed");
}

int kafka_producer::pending() const {
  return rd_kafka_outq_len(handle_.get());
}

void kafka_producer::poll_loop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    rd_kafka_poll(handle_.get(), static_cast<int>(poll_interval.count()));
  }
}

void kafka_producer::on_delivery_report(const rd_kafka_message_t& message) noexcept {
  std::unique_ptr<delivery_callback> callback(static_cast<delivery_callback*>(message._private));
  if (!callback) {
    return;
  }
  try {
    kafka_delivery delivery;
    delivery.error = make_kafka_error_code(message.err);
    delivery.topic = rd_kafka_topic_name(message.rkt);
    delivery.partition = message.partition;
    delivery.offset = message.err == RD_KAFKA_RESP_ERR_NO_ERROR ? message.offset : -1;
    if (delivery.error) {
      log_producer(spdlog::level::warn, client_id_, "delivery failed topic={} error={}",
                   delivery.topic, delivery.error.message());
    }
    callback->complete(delivery);
  } catch (const std::exception& error) {
    log_producer(spdlog::level::err, client_id_, "delivery callback threw: {}", error.what());
  } catch (...) {
    log_producer(spdlog::level::err, client_id_, "delivery callback threw a non-exception");
  }
}

void kafka_producer::on_error(int error, const char* reason) noexcept {
  metrics::count_client_event(metrics::client_event::kafka_error);
  try {
    if (error == RD_KAFKA_RESP_ERR__FATAL) {
      // With idempotence a fatal error means the producer can no longer keep its ordering and
      // exactly-once promise; every later produce fails.
      char fatal_reason[512] = {};
      const auto fatal = rd_kafka_fatal_error(handle_.get(), fatal_reason, sizeof fatal_reason);
      log_producer(spdlog::level::critical, client_id_, "fatal error={} reason={}",
                   rd_kafka_err2name(fatal), fatal_reason);
      return;
    }
    // Broker connection problems are reported here too and repair themselves; librdkafka keeps
    // retrying, so they are warnings.
    log_producer(spdlog::level::warn, client_id_, "client error={} reason={}",
                 rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(error)), reason);
  } catch (...) {
    // Logging failed; nothing else to do on librdkafka's thread.
  }
}

}  // namespace jobgate::kafka
