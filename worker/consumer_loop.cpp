#include "worker/consumer_loop.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>

#include "common/kafka/kafka_consumer.hpp"
#include "common/log/logger.hpp"
#include "worker/backoff.hpp"
#include "worker/job_runner.hpp"

namespace jobgate::worker {

namespace {

constexpr auto poll_timeout = std::chrono::milliseconds(500);
// Poll period while a job runs: short, so the loop notices the end of the job quickly.
constexpr auto job_poll_interval = std::chrono::milliseconds(100);
// A job that ends sooner runs with its partitions fetching. Pausing drops the messages fetched
// ahead, and fetching them again after the resume costs a broker round trip per job.
constexpr auto pause_after = std::chrono::milliseconds(500);

// Renews the lease of the attempt that the job thread runs, once per third of the lease, and only
// when the thread beat since the previous renewal, so a thread that hangs lets its lease lapse.
class lease_keeper {
 public:
  lease_keeper(worker_store& store, const job_liveness& liveness, std::int64_t lease_ms,
               const log::logger& logger)
      : store_(store), liveness_(liveness), lease_ms_(lease_ms), logger_(logger) {}

  // Called from the polling loop while a job runs. Returns true when the job thread has not beaten
  // for two lease periods: its lease lapsed long ago, and it hangs.
  bool tick() {
    const auto now = clock::now();
    const auto beats = liveness_.beats();
    if (beats != last_beats_) {
      last_beats_ = beats;
      last_progress_ = now;
    }
    if (now < next_renewal_) {
      return false;
    }
    next_renewal_ = now + std::chrono::milliseconds(lease_ms_ / 3);
    const auto [job_id, attempt] = liveness_.current();
    if (job_id.empty()) {
      last_progress_ = now;
      return false;
    }
    if (last_progress_ > last_renewal_) {
      last_renewal_ = now;
      auto renewed = store_.renew_lease(job_id, attempt, lease_ms_);
      if (!renewed) {
        logger_.warn("lease renewal failed",
                     {{"job_id", job_id}, {"error", renewed.error().message()}});
      } else if (renewed->outcome != worker_store::verdict::ok) {
        logger_.warn("lease lost; the attempt's writes are refused from now on",
                     {{"job_id", job_id}, {"attempt", attempt}});
      }
      return false;
    }
    logger_.warn("job made no progress; its lease is not renewed",
                 {{"job_id", job_id}, {"attempt", attempt}});
    return now - last_progress_ > std::chrono::milliseconds(2 * lease_ms_);
  }

  // A new job starts: its first renewal is a third of the lease away.
  void reset() {
    const auto now = clock::now();
    next_renewal_ = now + std::chrono::milliseconds(lease_ms_ / 3);
    last_progress_ = now;
    last_renewal_ = now;
    last_beats_ = liveness_.beats();
  }

 private:
  using clock = std::chrono::steady_clock;

  worker_store& store_;
  const job_liveness& liveness_;
  std::int64_t lease_ms_;
  const log::logger& logger_;
  clock::time_point next_renewal_;
  clock::time_point last_progress_;
  clock::time_point last_renewal_;
  std::uint64_t last_beats_ = 0;
};

}  // namespace

void run_consumer_loop(const worker_config& config, job_kind kind, int slot,
                       const redis::redis_endpoint& redis_endpoint, blob_store& blobs,
                       kafka::kafka_producer& producer,
                       const json::schema_validator& message_schema, worker_metrics& metrics,
                       const std::atomic<bool>& stopping) {
  const log::logger logger =
      log::logger{}.with("kind", to_string(kind)).with("slot", std::to_string(slot));
  auto connection = connect_redis(redis_endpoint, stopping, logger);
  if (!connection) {
    return;
  }
  worker_store store(std::move(*connection));
  job_runner runner(config, store, blobs, producer, message_schema, metrics, stopping);
  metrics.add_slots(kind, 1);
  // Leases are renewed from this thread, on a connection of its own.
  auto lease_connection = connect_redis(redis_endpoint, stopping, logger);
  if (!lease_connection) {
    return;
  }
  worker_store lease_store(std::move(*lease_connection));
  job_liveness liveness;
  lease_keeper keeper(lease_store, liveness, config.lease_ms, logger);

  kafka::kafka_config consumer_config;
  consumer_config.brokers = config.kafka_brokers;
  consumer_config.client_id =
      "jobgate-worker-" + std::string(to_string(kind)) + "-" + std::to_string(slot);
  consumer_config.group_id = config.group_prefix + "." + std::string(to_string(kind));
  // While a job runs, this thread keeps polling with its partitions paused, so a job may run far
  // longer than max.poll.interval.ms without the member leaving the group.
  consumer_config.overrides = {
      {"max.poll.interval.ms", std::to_string(config.max_poll_interval_ms)},
      {"session.timeout.ms", "6000"},
      {"heartbeat.interval.ms", "2000"},
      // Incremental rebalancing: a member joining or leaving moves only the partitions that must
      // move, so the other members go on with their jobs instead of all stopping at once.
      {"partition.assignment.strategy", "cooperative-sticky"},
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
      if (assignment_changed) {
        // librdkafka keeps a partition's pause flag across a revoke and a later assign (see
        // librdkafka issue 1849), so a partition revoked while paused would come back paused.
        assignment_changed = false;
        set_fetching(false);
      }
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

    // The job runs on a thread of its own. Once it has run for pause_after, this thread pauses the
    // partitions and polls meanwhile, which serves rebalances and the poll interval, and renews
    // the job's lease.
    std::mutex end_mutex;
    std::condition_variable end_signal;
    bool job_ended = false;
    const auto has_ended = [&] {
      std::lock_guard lock(end_mutex);
      return job_ended;
    };
    bool finished = false;
    keeper.reset();
    std::thread job_thread([&] {
      metrics.slot_busy(kind, true);
      for (int failures = 0; !stopping.load(); ++failures) {
        finished = runner.process(message, liveness);
        if (finished) {
          break;
        }
        back_off(failures, stopping);
      }
      metrics.slot_busy(kind, false);
      {
        std::lock_guard lock(end_mutex);
        job_ended = true;
      }
      end_signal.notify_all();
    });
    bool paused = false;
    {
      std::unique_lock lock(end_mutex);
      paused = !end_signal.wait_for(lock, pause_after, [&] { return job_ended; });
    }
    if (paused) {
      set_fetching(true);
      assignment_changed = false;
    }
    while (paused && !has_ended()) {
      auto polled = consumer.poll(job_poll_interval);
      if (polled && *polled) {
        // Fetched before the pause took effect, or from a partition assigned since.
        waiting.push_back(std::move(**polled));
      }
      if (assignment_changed) {
        assignment_changed = false;
        set_fetching(true);
      }
      if (keeper.tick()) {
        // A thread cannot be stopped from outside. Leaving the group hands this member's
        // partitions to the others, whose attempts fence whatever the hung thread writes later.
        logger.error("job thread hangs; the worker exits so that other members take its jobs",
                     {{"lease_ms", config.lease_ms}});
        consumer.close();
        std::_Exit(70);
      }
    }
    job_thread.join();
    if (paused) {
      set_fetching(false);
    }

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
