#include "worker/event_fan_out.hpp"

#include <map>

#include "common/clock.hpp"
#include "common/jobs/store_keys.hpp"
#include "common/json/schema_validator.hpp"
#include "common/kafka/kafka_consumer.hpp"
#include "common/log/logger.hpp"
#include "common/redis/error.hpp"
#include "common/redis/script.hpp"
#include "common/webhooks/webhook_scripts.hpp"
#include "worker/backoff.hpp"
#include "worker/webhook_event.hpp"

namespace jobgate::worker {

namespace {

constexpr auto poll_timeout = std::chrono::milliseconds(500);
// The delivery log keeps this many of a subscription's latest deliveries.
constexpr long long log_entries_kept = 1000;
constexpr std::size_t commit_batch = 200;
constexpr auto commit_interval = std::chrono::milliseconds(200);

// Stores the deliveries of one event. Returns how many were new.
boost::system::result<long long> fan_out(redis::connection& redis, const worker_config& config,
                                         const job_event& event, std::string_view traceparent) {
  const std::string body = webhook_payload(event, config.public_url);
  const std::string keys[] = {store_keys::tenant_webhooks(event.tenant),
                              store_keys::job(event.job_id),
                              std::string(store_keys::due_deliveries)};
  const std::string arguments[] = {event.event_id,
                                   event.type,
                                   event.kind,
                                   event.job_id,
                                   body,
                                   std::to_string(now_millis()),
                                   std::to_string(config.webhook_retention_hours * 3600 * 1000),
                                   event.tenant,
                                   std::to_string(log_entries_kept),
                                   std::string(traceparent)};
  static const redis::script script(webhook_scripts::fan_out_event);
  auto reply = script.run(redis, std::span<const std::string>(keys),
                          std::span<const std::string>(arguments));
  if (!reply) {
    return reply.error();
  }
  if (!reply->is_integer()) {
    return redis::make_error_code(redis::errc::protocol_error);
  }
  return reply->integer();
}

}  // namespace

void run_event_fan_out(const worker_config& config, const redis::redis_endpoint& redis_endpoint,
                       const std::atomic<bool>& stopping) {
  const log::logger logger = log::logger{}.with("role", "webhook-fan-out");
  const json::schema_validator event_schema("schemas/job-event.schema.json");

  kafka::kafka_config consumer_config;
  consumer_config.brokers = config.kafka_brokers;
  consumer_config.client_id = "jobgate-worker-webhooks";
  consumer_config.group_id = config.group_prefix + ".webhooks";
  consumer_config.overrides = {
      {"session.timeout.ms", "6000"},
      {"heartbeat.interval.ms", "2000"},
      {"partition.assignment.strategy", "cooperative-sticky"},
  };
  kafka::kafka_consumer consumer(consumer_config);
  if (auto error = consumer.subscribe({std::string(job_events_topic)})) {
    logger.error("subscribe failed", {{"topic", job_events_topic}, {"error", error.message()}});
    return;
  }
  logger.info("consumer started", {{"group", consumer_config.group_id}});

  auto redis = connect_redis(redis_endpoint, stopping, logger);
  if (!redis) {
    return;
  }
  // Offsets are committed in batches: an event read again after a crash creates nothing new, so
  // committing each one on its own would only cost a broker round trip per event.
  std::map<std::int32_t, kafka::kafka_message> uncommitted;
  std::size_t events_since_commit = 0;
  auto committed_at = std::chrono::steady_clock::now();
  const auto commit = [&] {
    for (const auto& [partition, message] : uncommitted) {
      if (auto error = consumer.commit(message)) {
        logger.warn(
            "offset commit failed",
            {{"partition", partition}, {"offset", message.offset}, {"error", error.message()}});
      }
    }
    uncommitted.clear();
    events_since_commit = 0;
    committed_at = std::chrono::steady_clock::now();
  };

  int poll_failures = 0;
  while (!stopping.load()) {
    if (!uncommitted.empty() &&
        (events_since_commit >= commit_batch ||
         std::chrono::steady_clock::now() - committed_at >= commit_interval)) {
      commit();
    }
    auto polled = consumer.poll(uncommitted.empty() ? poll_timeout : commit_interval);
    if (!polled) {
      logger.warn("poll failed", {{"error", polled.error().message()}});
      back_off(poll_failures++, stopping);
      continue;
    }
    poll_failures = 0;
    if (!*polled) {
      commit();
      continue;
    }
    kafka::kafka_message& message = **polled;

    std::string error;
    const auto event = read_job_event(message.value, event_schema, error);
    if (!event) {
      logger.error(
          "event skipped",
          {{"partition", message.partition}, {"offset", message.offset}, {"error", error}});
    }
    // While Redis is unreachable the event waits here, because its offset moves only once its
    // deliveries exist.
    bool stored = !event;
    for (int failures = 0; event && !stopping.load(); ++failures) {
      auto created = fan_out(*redis, config, *event, message.header("traceparent"));
      if (created) {
        if (*created > 0) {
          logger.info(
              "deliveries created",
              {{"event_id", event->event_id}, {"job_id", event->job_id}, {"deliveries", *created}});
        }
        stored = true;
        break;
      }
      logger.warn("storing deliveries failed; retrying",
                  {{"event_id", event->event_id}, {"error", created.error().message()}});
      back_off(failures, stopping);
      if (!redis->is_connected()) {
        redis = connect_redis(redis_endpoint, stopping, logger);
        if (!redis) {
          return;
        }
      }
    }
    if (stored) {
      const std::int32_t partition = message.partition;
      uncommitted.insert_or_assign(partition, std::move(message));
      ++events_since_commit;
    }
  }
  commit();
  consumer.close();
  logger.info("consumer stopped");
}

}  // namespace jobgate::worker
