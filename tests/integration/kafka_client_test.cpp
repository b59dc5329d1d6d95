#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <future>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/kafka/kafka_admin.hpp"
#include "common/kafka/kafka_consumer.hpp"
#include "common/kafka/kafka_error.hpp"
#include "common/kafka/kafka_producer.hpp"
#include "common/metrics/client_counters.hpp"
#include "test_brokers.hpp"

// These tests run against the Kafka broker that tests/run-services starts. Each test creates its
// own topics and consumer groups, so tests may share one broker and run in any order.

namespace {

using namespace std::chrono_literals;
using jobgate::kafka::kafka_admin;
using jobgate::kafka::kafka_config;
using jobgate::kafka::kafka_consumer;
using jobgate::kafka::kafka_delivery;
using jobgate::kafka::kafka_errc;
using jobgate::kafka::kafka_header;
using jobgate::kafka::kafka_headers;
using jobgate::kafka::kafka_message;
using jobgate::kafka::kafka_producer;
using jobgate::kafka::kafka_topic_partition;

constexpr auto request_timeout = 15s;
constexpr auto consume_timeout = 30s;

using jobgate::metrics::client_event;
using jobgate::metrics::client_event_total;
using jobgate::test::test_brokers;

// A name no earlier run used, so topics and groups left on a reused broker never interfere.
std::string unique_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  static const auto run = std::random_device{}();
  return "jobgate.test." + prefix + "." + std::to_string(::getpid()) + "." + std::to_string(run) +
         "." + std::to_string(counter++);
}

kafka_config client_config(const std::string& client_id, const std::string& group_id = "") {
  kafka_config config;
  config.brokers = test_brokers();
  config.client_id = client_id;
  config.group_id = group_id;
  return config;
}

std::string create_test_topic(const std::string& prefix, int partitions) {
  const std::string topic = unique_name(prefix);
  kafka_admin admin(client_config("test-admin"));
  const std::error_code error = admin.create_topic(topic, partitions, 1, request_timeout);
  INFO("creating topic " << topic << ": " << error.message());
  REQUIRE_FALSE(error);
  return topic;
}

void produce_values(const std::string& topic, const std::vector<std::string>& values) {
  kafka_producer producer(client_config("test-producer"));
  for (const std::string& value : values) {
    auto delivery = producer.produce_sync(topic, "key", value, {}, request_timeout);
    INFO("producing " << value << ": " << (delivery ? "ok" : delivery.error().message()));
    REQUIRE(delivery.has_value());
  }
}

// Polls until count messages arrived or consume_timeout passed.
std::vector<kafka_message> consume(kafka_consumer& consumer, std::size_t count) {
  std::vector<kafka_message> messages;
  const auto deadline = std::chrono::steady_clock::now() + consume_timeout;
  while (messages.size() < count && std::chrono::steady_clock::now() < deadline) {
    auto polled = consumer.poll(200ms);
    REQUIRE(polled.has_value());
    if (*polled) {
      messages.push_back(std::move(**polled));
    }
  }
  return messages;
}

// Polls until the group assigned partitions to the consumer.
std::vector<kafka_topic_partition> wait_for_assignment(kafka_consumer& consumer) {
  const auto deadline = std::chrono::steady_clock::now() + consume_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto polled = consumer.poll(100ms);
    REQUIRE(polled.has_value());
    REQUIRE_FALSE(polled->has_value());
    auto assigned = consumer.assignment();
    REQUIRE(assigned.has_value());
    if (!assigned->empty()) {
      return *assigned;
    }
  }
  FAIL("the consumer group assigned no partition within 30 s");
  return {};
}

}  // namespace

TEST_CASE("producer delivery report arrives", "[kafka]") {
  const std::string topic = create_test_topic("delivery", 1);
  kafka_producer producer(client_config("test-producer"));

  std::promise<kafka_delivery> report;
  std::promise<std::thread::id> callback_thread;
  const std::error_code enqueue_error =
      producer.produce(topic, "job-1", "payload", {}, [&](const kafka_delivery& delivery) {
        callback_thread.set_value(std::this_thread::get_id());
        report.set_value(delivery);
      });
  REQUIRE_FALSE(enqueue_error);

  auto future = report.get_future();
  REQUIRE(future.wait_for(request_timeout) == std::future_status::ready);
  const kafka_delivery delivery = future.get();
  INFO(delivery.error.message());
  CHECK_FALSE(delivery.error);
  CHECK(delivery.topic == topic);
  CHECK(delivery.partition == 0);
  CHECK(delivery.offset == 0);
  CHECK(callback_thread.get_future().get() != std::this_thread::get_id());

  auto second = producer.produce_sync(topic, "job-2", "payload", {}, request_timeout);
  REQUIRE(second.has_value());
  CHECK(second->offset == 1);
  CHECK_FALSE(producer.flush(request_timeout));
  CHECK(producer.pending() == 0);
}

TEST_CASE("unreachable broker counts kafka errors", "[kafka]") {
  // Nothing listens on port 1 of the loopback address, so every connection is refused at once.
  kafka_config config = client_config("test-unreachable");
  config.brokers = "127.0.0.1:1";
  const auto before = client_event_total(client_event::kafka_error);
  kafka_producer producer(config);
  const auto deadline = std::chrono::steady_clock::now() + request_timeout;
  while (client_event_total(client_event::kafka_error) == before &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(client_event_total(client_event::kafka_error) > before);
}

TEST_CASE("consumer group commit shows as lag", "[kafka]") {
  const std::string topic = create_test_topic("commit", 1);
  const std::string group = unique_name("group");
  produce_values(topic, {"m0", "m1", "m2"});
  kafka_admin admin(client_config("test-admin"));

  auto before = admin.consumer_lag(group, {topic}, request_timeout);
  REQUIRE(before.has_value());
  REQUIRE(before->size() == 1);
  CHECK(before->at(0).committed_offset == -1);
  CHECK(before->at(0).high_watermark == 3);
  CHECK(before->at(0).lag == 3);

  kafka_consumer consumer(client_config("test-consumer", group));
  REQUIRE_FALSE(consumer.subscribe({topic}));
  const std::vector<kafka_message> messages = consume(consumer, 3);
  REQUIRE(messages.size() == 3);
  for (std::size_t i = 0; i < messages.size(); ++i) {
    CHECK(messages[i].topic == topic);
    CHECK(messages[i].partition == 0);
    CHECK(messages[i].offset == static_cast<std::int64_t>(i));
    CHECK(messages[i].key == "key");
    CHECK(messages[i].value == "m" + std::to_string(i));
  }

  REQUIRE_FALSE(consumer.commit(messages.back()));
  auto after = admin.consumer_lag(group, {topic}, request_timeout);
  REQUIRE(after.has_value());
  REQUIRE(after->size() == 1);
  CHECK(after->at(0).topic == topic);
  CHECK(after->at(0).partition == 0);
  CHECK(after->at(0).committed_offset == 3);
  CHECK(after->at(0).high_watermark == 3);
  CHECK(after->at(0).lag == 0);
}

TEST_CASE("uncommitted message is redelivered", "[kafka]") {
  const std::string topic = create_test_topic("redelivery", 1);
  const std::string group = unique_name("group");
  produce_values(topic, {"m0", "m1", "m2"});

  {
    kafka_consumer first(client_config("test-consumer-1", group));
    REQUIRE_FALSE(first.subscribe({topic}));
    const std::vector<kafka_message> messages = consume(first, 3);
    REQUIRE(messages.size() == 3);
    // Only m0 counts as processed; m1 and m2 were read but never committed.
    REQUIRE_FALSE(first.commit(messages.front()));
    REQUIRE_FALSE(first.close());
  }

  kafka_consumer second(client_config("test-consumer-2", group));
  REQUIRE_FALSE(second.subscribe({topic}));
  const std::vector<kafka_message> redelivered = consume(second, 2);
  REQUIRE(redelivered.size() == 2);
  CHECK(redelivered[0].offset == 1);
  CHECK(redelivered[0].value == "m1");
  CHECK(redelivered[1].offset == 2);
  CHECK(redelivered[1].value == "m2");
}

TEST_CASE("headers survive the round trip", "[kafka]") {
  const std::string topic = create_test_topic("headers", 1);
  const kafka_headers headers = {
      {"job-id", "0b4c7f3e"}, {"attempt", "1"},
      {"attempt", "2"},       {"binary", std::string("\0\x01\xff", 3)},
      {"empty", ""},
  };
  kafka_producer producer(client_config("test-producer"));
  const auto before_produce = std::chrono::system_clock::now();
  auto delivery =
      producer.produce_sync(topic, "0b4c7f3e", "{\"kind\":\"imports\"}", headers, request_timeout);
  REQUIRE(delivery.has_value());

  kafka_consumer consumer(client_config("test-consumer", unique_name("group")));
  REQUIRE_FALSE(consumer.subscribe({topic}));
  const std::vector<kafka_message> messages = consume(consumer, 1);
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].headers == headers);
  CHECK(messages[0].key == "0b4c7f3e");
  CHECK(messages[0].value == "{\"kind\":\"imports\"}");
  const auto produced_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(before_produce.time_since_epoch())
          .count();
  CHECK(messages[0].timestamp_ms >= produced_ms - 1000);
}

TEST_CASE("oversized message classified too large", "[kafka]") {
  const std::string topic = create_test_topic("large", 1);
  const std::string two_megabytes(2 * 1024 * 1024, 'x');

  SECTION("rejected by the producer before sending") {
    // The producer's message.max.bytes defaults to 1000000, so the message never leaves.
    kafka_producer producer(client_config("test-producer"));
    bool called = false;
    const std::error_code error = producer.produce(topic, "", two_megabytes, {},
                                                   [&](const kafka_delivery&) { called = true; });
    REQUIRE(error);
    CHECK(error == kafka_errc::too_large);
    CHECK(jobgate::kafka::classify(error) == kafka_errc::too_large);
    CHECK(error.value() == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
    CHECK_FALSE(called);
  }

  SECTION("rejected by the broker in the delivery report") {
    // A producer allowed 4 MB sends it, and the broker's default limit of about 1 MB rejects it.
    kafka_config config = client_config("test-producer");
    config.overrides = {{"message.max.bytes", "4000000"}};
    kafka_producer producer(config);
    auto delivery = producer.produce_sync(topic, "", two_megabytes, {}, request_timeout);
    REQUIRE_FALSE(delivery.has_value());
    INFO(delivery.error().message());
    CHECK(delivery.error() == kafka_errc::too_large);
    CHECK_FALSE(delivery.error() == kafka_errc::retryable);

    // The rejection is about that message only; the producer still delivers small ones.
    auto small = producer.produce_sync(topic, "", "small", {}, request_timeout);
    CHECK(small.has_value());
  }
}

TEST_CASE("paused partition delivers after resume", "[kafka]") {
  const std::string topic = create_test_topic("pause", 1);
  kafka_consumer consumer(client_config("test-consumer", unique_name("group")));
  REQUIRE_FALSE(consumer.subscribe({topic}));
  const std::vector<kafka_topic_partition> assigned = wait_for_assignment(consumer);
  REQUIRE(assigned == std::vector<kafka_topic_partition>{{topic, 0}});

  REQUIRE_FALSE(consumer.pause(assigned));
  produce_values(topic, {"while-paused"});
  const auto quiet_until = std::chrono::steady_clock::now() + 1500ms;
  while (std::chrono::steady_clock::now() < quiet_until) {
    auto polled = consumer.poll(100ms);
    REQUIRE(polled.has_value());
    REQUIRE_FALSE(polled->has_value());
  }

  REQUIRE_FALSE(consumer.resume(assigned));
  const std::vector<kafka_message> messages = consume(consumer, 1);
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].value == "while-paused");
}

TEST_CASE("rebalance hooks see assign and revoke", "[kafka]") {
  const std::string topic = create_test_topic("rebalance", 2);
  std::vector<kafka_topic_partition> assigned;
  std::vector<kafka_topic_partition> revoked;
  bool assignment_visible_in_hook = false;

  jobgate::kafka::kafka_rebalance_hooks hooks;
  kafka_consumer* self = nullptr;
  hooks.on_assigned = [&](const std::vector<kafka_topic_partition>& partitions) {
    assigned = partitions;
    // The hook runs after the assignment, so pausing here would already work.
    auto current = self->assignment();
    assignment_visible_in_hook = current.has_value() && current->size() == partitions.size();
  };
  hooks.on_revoked = [&](const std::vector<kafka_topic_partition>& partitions) {
    revoked = partitions;
  };

  kafka_consumer consumer(client_config("test-consumer", unique_name("group")), hooks);
  self = &consumer;
  REQUIRE_FALSE(consumer.subscribe({topic}));
  wait_for_assignment(consumer);
  const std::vector<kafka_topic_partition> expected = {{topic, 0}, {topic, 1}};
  CHECK(assigned == expected);
  CHECK(assignment_visible_in_hook);
  CHECK(revoked.empty());

  REQUIRE_FALSE(consumer.close());
  CHECK(revoked == expected);
  auto after_close = consumer.poll(10ms);
  REQUIRE_FALSE(after_close.has_value());
  CHECK(after_close.error().value() == RD_KAFKA_RESP_ERR__DESTROY);
}

TEST_CASE("admin lists and creates topics", "[kafka]") {
  const std::string topic = create_test_topic("admin", 4);
  kafka_admin admin(client_config("test-admin"));

  auto topics = admin.list_topics(request_timeout);
  REQUIRE(topics.has_value());
  const auto found = std::find_if(topics->begin(), topics->end(),
                                  [&](const auto& info) { return info.name == topic; });
  REQUIRE(found != topics->end());
  CHECK(found->partitions == 4);

  const std::error_code again = admin.create_topic(topic, 4, 1, request_timeout);
  CHECK(again.value() == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS);
  CHECK(again == kafka_errc::fatal);

  auto lag = admin.consumer_lag(unique_name("group"), {topic}, request_timeout);
  REQUIRE(lag.has_value());
  REQUIRE(lag->size() == 4);
  for (std::int32_t partition = 0; partition < 4; ++partition) {
    CHECK(lag->at(partition).partition == partition);
    CHECK(lag->at(partition).lag == 0);
  }

  auto missing = admin.consumer_lag("any-group", {unique_name("missing")}, request_timeout);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().value() == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
}
