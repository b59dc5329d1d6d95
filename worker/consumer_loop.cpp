#include "worker/consumer_loop.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <random>
#include <thread>

#include "common/kafka/kafka_consumer.hpp"
#include "common/log/logger.hpp"
#include "worker/job_runner.hpp"

namespace jobgate::worker {

namespace {

constexpr auto poll_timeout = std::chrono::milliseconds(500);
// Poll period while a job runs: short, so the loop notices the end of the job quickly.
constexpr auto job_poll_interval = std::chrono::milliseconds(100);
constexpr auto backoff_min = std::chrono::milliseconds(200);
constexpr auto backoff_max = std::chrono::milliseconds(10000);

// Sleeps for an exponential backoff with jitter, waking early when the worker stops.
void back_off(int failures, const std::atomic<bool>& stopping) {
  static thread_local std::minstd_rand random(std::random_device{}());
  const auto ceiling =
      std::min<std::int64_t>(backoff_max.count(), backoff_min.count() << std::min(failures, 10));
  std::uniform_int_distribution<std::int64_t> pick(ceiling / 2, ceiling);
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(pick(random));
  while (!stopping.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::optional<redis::connection> connect_redis(const redis::redis_endpoint& endpoint,
                                               const std::atomic<bool>& stopping,
                                               const log::logger& logger) {
  for (int failures = 0; !stopping.load(); ++failures) {
    auto connected = redis::connection::connect(endpoint);
    if (connected) {
      return std::move(*connected);
    }
    logger.warn("Redis connection failed; retrying", {{"error", connected.error().message()}});
    back_off(failures, stopping);
  }
  return std::nullopt;
}

}  // namespace

void run_consumer_loop(const worker_config& config, job_kind kind, int slot,
                       const redis::redis_endpoint& redis_endpoint, blob_store& blobs,
                       kafka::kafka_producer& producer,
                       const json::schema_validator& message_schema,
                       const std::atomic<bool>& stopping) {
  const log::logger logger =
      log::logger{}.with("kind", to_string(kind)).with("slot", std::to_string(slot));
  auto connection = connect_redis(redis_endpoint, stopping, logger);
  if (!connection) {
    return;
  }
  worker_store store(std::move(*connection));
  job_runner runner(config, store, blobs, producer, message_schema, stopping);

  kafka::kafka_config consumer_config;
  consumer_config.brokers = config.kafka_brokers;
  consumer_config.client_id =
      "jobgate-worker-" + std::string(to_string(kind)) + "-" + std::to_string(slot);
  consumer_config.group_id = config.group_prefix + "." + std::string(to_string(kind));
  // While a job runs, this thread keeps polling with its partitions paused, so a job may run far
  // longer than max.poll.interval.ms without the member leaving the group.
  consumer_config.overrides = {
      {"max.poll.interval.ms", std::to_string(config.max_poll_interval_ms)},
      {"session.timeout.ms", "10000"},
      {"heartbeat.interval.ms", "2000"},
  };

  // Messages fetched but not yet run, in order. A rebalance that takes a partition away drops its
  // messages, because the partition's next owner reads them again from the committed offset.
  std::deque<kafka::kafka_message> waiting;
  bool assignment_changed = false;
  kafka::kafka_rebalance_hooks hooks;
  hooks.on_assigned = [&](const std::vector<kafka::kafka_topic_partition>&) {
    assignment_changed = true;
  };
  hooks.on_revoked = [&](const std::vector<kafka::kafka_topic_partition>& revoked) {
    assignment_changed = true;
    std::erase_if(waiting, [&](const kafka::kafka_message& message) {
      return std::any_of(revoked.begin(), revoked.end(), [&](const auto& partition) {
        return partition.topic == message.topic && partition.partition == message.partition;
      });
    });
  };
  kafka::kafka_consumer consumer(consumer_config, hooks);
  if (auto error = consumer.subscribe({topic_for(kind)})) {
    logger.error("subscribe failed", {{"topic", topic_for(kind)}, {"error", error.message()}});
    return;
  }
  logger.info("consumer started", {{"group", consumer_config.group_id}});

  // Pauses or resumes every partition this member owns.
  const auto set_fetching = [&](bool paused) {
    auto assigned = consumer.assignment();
    if (!assigned) {
      logger.warn("partition assignment unreadable", {{"error", assigned.error().message()}});
      return;
    }
    if (assigned->empty()) {
      return;
    }
    if (auto error = paused ? consumer.pause(*assigned) : consumer.resume(*assigned)) {
      logger.warn(paused ? "pausing partitions failed" : "resuming partitions failed",
                  {{"error", error.message()}});
    }
  };

  int poll_failures = 0;
  while (!stopping.load()) {
    if (waiting.empty()) {
      auto polled = consumer.poll(poll_timeout);
      if (!polled) {
        logger.warn("poll failed", {{"error", polled.error().message()}});
        back_off(poll_failures++, stopping);
        continue;
      }
      poll_failures = 0;
      if (!*polled) {
        continue;
      }
      waiting.push_back(std::move(**polled));
    }
    const kafka::kafka_message message = std::move(waiting.front());
    waiting.pop_front();

    // The job runs on a thread of its own; this thread polls the paused consumer meanwhile, which
    // serves heartbeats, rebalances and the poll interval.
    // TODO: a job thread that hangs keeps its partition, because this thread goes on polling. A
    // lease in Redis that another worker takes over once it lapses would bound that.
    std::atomic<bool> job_ended{false};
    bool finished = false;
    std::thread job_thread([&] {
      for (int failures = 0; !stopping.load(); ++failures) {
        finished = runner.process(message);
        if (finished) {
          break;
        }
        back_off(failures, stopping);
      }
      job_ended.store(true);
    });
    set_fetching(true);
    assignment_changed = false;
    while (!job_ended.load()) {
      auto polled = consumer.poll(job_poll_interval);
      if (polled && *polled) {
        // Fetched before the pause took effect, or from a partition assigned since.
        waiting.push_back(std::move(**polled));
      }
      if (assignment_changed) {
        assignment_changed = false;
        set_fetching(true);
      }
    }
    job_thread.join();
    set_fetching(false);

    if (!finished) {
      break;  // stopping: the offset stays uncommitted, so the message is delivered again
    }
    if (auto error = consumer.commit(message)) {
      // The job is final in the store, so a redelivery after this failure is skipped as final.
      logger.warn("offset commit failed", {{"partition", message.partition},
                                           {"offset", message.offset},
                                           {"error", error.message()}});
    }
  }
  consumer.close();
  logger.info("consumer stopped");
}

}  // namespace jobgate::worker
