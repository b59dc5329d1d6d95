#include "worker/worker_config.hpp"

#include "common/redis/redis_endpoint.hpp"
#include "common/webhooks/target_settings.hpp"

namespace jobgate::worker {

namespace {

void read_webhook_settings(settings_reader& reader, worker_config& config) {
  const worker_config defaults;
  config.webhook_concurrency =
      reader.integer("webhook-concurrency", defaults.webhook_concurrency, 1, 1024, "deliveries",
                     "webhook deliveries in flight at once");
  config.webhook_target_concurrency = reader.integer(
      "webhook-target-concurrency", defaults.webhook_target_concurrency, 1, 1024, "deliveries",
      "webhook deliveries in flight to one subscription or callback host at once");
  config.webhook_connect_timeout_ms =
      reader.integer("webhook-connect-timeout", defaults.webhook_connect_timeout_ms, 100, 60000,
                     "ms", "limit for resolving and connecting to a webhook target");
  config.webhook_response_timeout_ms =
      reader.integer("webhook-response-timeout", defaults.webhook_response_timeout_ms, 100, 120000,
                     "ms", "limit from sending a webhook until its response is read");
  auto targets = webhooks::read_target_settings(reader);
  config.webhook_allow_addresses = std::move(targets.allow_addresses);
  config.webhook_policy = std::move(targets.policy);
  config.webhook_allow_http = targets.allow_http;
  config.webhook_ca_file = reader.text(
      "webhook-ca-file", "", "PEM bundle trusted for https targets besides the system store");

  std::string error;
  const std::string schedule =
      reader.text("webhook-retry-schedule", defaults.webhook_retries.describe(),
                  "delays before each retry of a failed delivery, e.g. 5s,30s,2m,1h");
  if (auto retries = webhooks::retry_schedule::parse(schedule, error)) {
    config.webhook_retries = std::move(*retries);
  } else {
    reader.reject("webhook-retry-schedule", error);
  }

  config.webhook_disable_after_ms = reader.integer(
      "webhook-disable-after", defaults.webhook_disable_after_ms, 1000, 90LL * 24 * 3600 * 1000,
      "ms", "time a subscription may fail every delivery before it is disabled");
  config.webhook_retention_hours =
      reader.integer("webhook-retention", defaults.webhook_retention_hours, 1, 24 * 365, "hours",
                     "time a delivery and its attempts stay in the delivery log");

  config.public_url = reader.text("public-url", defaults.public_url,
                                  "base URL of the gateway, for the links in webhook payloads");
  while (!config.public_url.empty() && config.public_url.back() == '/') {
    config.public_url.pop_back();
  }
}

}  // namespace

worker_config read_worker_config(settings_reader& reader) {
  worker_config config;
  const worker_config defaults;

  config.kinds.clear();
  for (const auto& name :
       reader.list("kinds", "imports,exports",
                   "work this worker takes on: imports, exports, webhooks (delivers job events)")) {
    if (name == "webhooks") {
      config.webhooks = true;
      continue;
    }
    const auto kind = parse_job_kind(name);
    if (!kind) {
      reader.reject("kinds",
                    "'" + name + "' is not a kind of work; use imports, exports or webhooks");
      continue;
    }
    config.kinds.push_back(*kind);
  }
  if (config.kinds.empty() && !config.webhooks) {
    reader.reject("kinds", "at least one kind of work is required");
  }
  config.concurrency = reader.integer("concurrency", defaults.concurrency, 1, 64, "jobs",
                                      "jobs processed at once for each kind");
  config.redis_url = reader.text("redis-url", defaults.redis_url, "Redis server URL");
  config.kafka_brokers = reader.text("kafka-brokers", defaults.kafka_brokers,
                                     "Kafka bootstrap servers, host:port,...");
  config.group_prefix = reader.text("group-prefix", defaults.group_prefix,
                                    "consumer group prefix; the group is PREFIX.KIND");
  config.blob_dir = reader.text("blob-dir", defaults.blob_dir,
                                "directory for uploads and results, shared with the gateway");
  config.batch_rows = reader.integer("batch-rows", defaults.batch_rows, 1, 100000, "rows",
                                     "rows applied to Redis in one atomic batch");
  config.progress_interval_ms =
      reader.integer("progress-interval", defaults.progress_interval_ms, 50, 60000, "ms",
                     "longest time between two progress writes of a running import");
  config.job_retention_hours =
      reader.integer("job-retention", defaults.job_retention_hours, 1, 24 * 365, "hours",
                     "time a finished job and its result are kept");
  config.max_attempts =
      reader.integer("max-attempts", defaults.max_attempts, 1, 1000, "attempts",
                     "starts of one job before it fails with too-many-attempts and its message "
                     "goes to the dead-letter topic");
  config.lease_ms = reader.integer(
      "lease", defaults.lease_ms, 1000, 3600000, "ms",
      "time a running job may go without progress before another worker takes it over");
  config.slots_report_interval_ms = reader.integer(
      "slots-report-interval", defaults.slots_report_interval_ms, 100, 60000, "ms",
      "time between two reports of this worker's slots to Redis; a report lapses after three "
      "intervals without a new one");
  config.max_poll_interval_ms = reader.integer(
      "max-poll-interval", defaults.max_poll_interval_ms, 10000, 86400000, "ms",
      "Kafka max.poll.interval.ms; jobs may run longer, because the consumer polls while they run");

  tenants::read_limit_settings(reader, tenants::limit_owner::worker, config.limits);

  config.metrics_address =
      reader.text("metrics-address", defaults.metrics_address,
                  "address of the HTTP listener for GET /metrics and GET /healthz");
  config.metrics_port = reader.integer("metrics-port", defaults.metrics_port, 0, 65535, "port",
                                       "port of the metrics listener; 0 picks a free port");
  read_webhook_settings(reader, config);
  read_log_settings(reader, config.log_format, config.log_level);
  return config;
}

std::string describe(const worker_config& config) {
  std::string kinds;
  for (const auto kind : config.kinds) {
    kinds += (kinds.empty() ? "" : ",") + std::string(to_string(kind));
  }
  if (config.webhooks) {
    kinds += (kinds.empty() ? "" : ",") + std::string("webhooks");
  }
  return "kinds=" + kinds + " concurrency=" + std::to_string(config.concurrency) +
         " redis=" + redis::masked_redis_url(config.redis_url) + " kafka=" + config.kafka_brokers +
         " group_prefix=" + config.group_prefix + " blob_dir=" + config.blob_dir +
         " batch_rows=" + std::to_string(config.batch_rows) +
         " lease_ms=" + std::to_string(config.lease_ms) +
         " slots_report_interval_ms=" + std::to_string(config.slots_report_interval_ms) +
         describe_limits(config.limits, tenants::limit_owner::worker) +
         " metrics=" + config.metrics_address + ":" + std::to_string(config.metrics_port);
}

}  // namespace jobgate::worker
