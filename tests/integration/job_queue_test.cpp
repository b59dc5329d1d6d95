#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <future>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "common/kafka/kafka_admin.hpp"
#include "common/kafka/kafka_consumer.hpp"
#include "common/kafka/kafka_error.hpp"
#include "gateway/kafka_job_queue.hpp"
#include "redis_test_server.hpp"
#include "test_brokers.hpp"

// gateway::kafka_job_queue against the real broker that tests/run-services starts: a publish that
// completed must be readable by a consumer, with the key, value and headers the gateway sent.

namespace {

namespace asio = boost::asio;
namespace kafka = jobgate::kafka;
using namespace std::chrono_literals;
using jobgate::job_kind;
using jobgate::job_record;

using jobgate::test::test_brokers;

std::string unique_group() {
  static std::atomic<int> counter{0};
  static const auto run = std::random_device{}();
  return "jobgate.test.job-queue." + std::to_string(::getpid()) + "." + std::to_string(run) + "." +
         std::to_string(counter++);
}

// Creates the kind's topic unless the broker already has it, as deploy/local/services does.
void ensure_topic(const std::string& brokers, const std::string& topic) {
  kafka::kafka_config config;
  config.brokers = brokers;
  config.client_id = "job-queue-test-admin";
  kafka::kafka_admin admin(config);
  const std::error_code error = admin.create_topic(topic, 1, 1, 15s);
  INFO("creating topic " << topic << ": " << error.message());
  REQUIRE(
      (!error || error == kafka::make_kafka_error_code(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)));
}

job_record make_job(job_kind kind) {
  job_record job;
  job.id = jobgate::job_id::generate(kind).str();
  job.tenant = "tenant-queue-test";
  job.kind = kind;
  job.created_at = jobgate::now_millis();
  return job;
}

// Runs one publish on an io_context thread and returns its error and how long it took. The
// io_context belongs to the caller and must outlive the queue: the producer's poll thread may
// still be inside post() on it when the publish has already completed.
struct publish_outcome {
  std::error_code error;
  std::chrono::milliseconds elapsed{0};
};

publish_outcome publish(asio::io_context& io, jobgate::gateway::kafka_job_queue& queue,
                        const job_record& job, std::string message) {
  io.restart();
  auto work = asio::make_work_guard(io);
  std::thread runner([&io] { io.run(); });
  const auto started = std::chrono::steady_clock::now();
  auto future = asio::co_spawn(io, queue.publish(job, std::move(message)), asio::use_future);
  const bool ready = future.wait_for(60s) == std::future_status::ready;
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  work.reset();
  if (!ready) {
    io.stop();
  }
  runner.join();
  REQUIRE(ready);
  return {future.get(), elapsed};
}

// Reads the topic from its start with a new group until the message keyed by job_id arrives.
std::optional<kafka::kafka_message> consume_job(const std::string& brokers,
                                                const std::string& topic,
                                                const std::string& job_id) {
  kafka::kafka_config config;
  config.brokers = brokers;
  config.client_id = "job-queue-test-consumer";
  config.group_id = unique_group();
  kafka::kafka_consumer consumer(config);
  REQUIRE_FALSE(consumer.subscribe({topic}));
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto polled = consumer.poll(500ms);
    if (!polled) {
      continue;
    }
    if (*polled && (*polled)->key == job_id) {
      return std::move(**polled);
    }
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("job queue publish reaches the topic", "[kafka][job_queue]") {
  const std::string brokers = test_brokers();
  for (const auto kind : {job_kind::imports, job_kind::exports}) {
    const std::string topic = jobgate::topic_for(kind);
    ensure_topic(brokers, topic);
    asio::io_context io;
    jobgate::gateway::kafka_job_queue queue(brokers, 10s);
    const job_record job = make_job(kind);
    const std::string message = R"({"jobId":")" + job.id +
                                R"(","tenant":"tenant-queue-test","kind":")" +
                                std::string(jobgate::to_string(kind)) + R"(","request":{}})";

    const auto published = publish(io, queue, job, message);
    INFO("topic " << topic << " publish error: " << published.error.message());
    REQUIRE_FALSE(published.error);
    queue.close();

    const auto consumed = consume_job(brokers, topic, job.id);
    REQUIRE(consumed.has_value());
    CHECK(consumed->topic == topic);
    CHECK(consumed->key == job.id);
    CHECK(consumed->value == message);
    const kafka::kafka_headers expected = {{"jobgate-tenant", "tenant-queue-test"},
                                           {"content-type", "application/json"}};
    CHECK(consumed->headers == expected);
    CHECK(consumed->timestamp_ms >= job.created_at - 60000);
  }
}

TEST_CASE("job queue keeps order per job", "[kafka][job_queue]") {
  const std::string brokers = test_brokers();
  ensure_topic(brokers, "jobgate.exports");
  asio::io_context io;
  jobgate::gateway::kafka_job_queue queue(brokers, 10s);
  const job_record job = make_job(job_kind::exports);

  // Two messages with one key land on one partition in publish order.
  REQUIRE_FALSE(publish(io, queue, job, "first").error);
  REQUIRE_FALSE(publish(io, queue, job, "second").error);
  queue.close();

  kafka::kafka_config config;
  config.brokers = brokers;
  config.group_id = unique_group();
  kafka::kafka_consumer consumer(config);
  REQUIRE_FALSE(consumer.subscribe({"jobgate.exports"}));
  std::vector<kafka::kafka_message> found;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (found.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    auto polled = consumer.poll(500ms);
    if (polled && *polled && (*polled)->key == job.id) {
      found.push_back(std::move(**polled));
    }
  }
  REQUIRE(found.size() == 2);
  CHECK(found[0].value == "first");
  CHECK(found[1].value == "second");
  CHECK(found[0].partition == found[1].partition);
  CHECK(found[0].offset < found[1].offset);
}

TEST_CASE("job queue fails without broker", "[kafka][job_queue]") {
  // Nothing listens on the port, so no acknowledgement can arrive before the delivery timeout.
  const std::string brokers = "127.0.0.1:" + std::to_string(jobgate::test::unused_local_port());
  asio::io_context io;
  jobgate::gateway::kafka_job_queue queue(brokers, 1500ms);
  const job_record job = make_job(job_kind::imports);

  const auto published = publish(io, queue, job, "{}");
  INFO("publish error: " << published.error.message());
  REQUIRE(published.error);
  CHECK(published.error == kafka::kafka_errc::retryable);
  CHECK(published.elapsed >= 1000ms);
  CHECK(published.elapsed < 30s);
  queue.close();
}

TEST_CASE("job queue replaces fatally failed producer", "[kafka][job_queue]") {
  const std::string brokers = test_brokers();
  ensure_topic(brokers, "jobgate.exports");
  asio::io_context io;
  jobgate::gateway::kafka_job_queue queue(brokers, 10s);
  REQUIRE_FALSE(publish(io, queue, make_job(job_kind::exports), "before").error);

  // The probe finds the fatal state within one period, reports the queue unreachable and swaps
  // in a new producer, after which publishing works again.
  queue.inject_fatal_error("injected by the job queue test");
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  std::error_code last_error;
  while (std::chrono::steady_clock::now() < deadline) {
    last_error = publish(io, queue, make_job(job_kind::exports), "after").error;
    if (!last_error) {
      break;
    }
    std::this_thread::sleep_for(200ms);
  }
  INFO("last publish error: " << last_error.message());
  CHECK_FALSE(last_error);
  CHECK(queue.reachable());
  queue.close();
}
