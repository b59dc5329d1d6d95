#include "worker/worker_config.hpp"

namespace jobgate::worker {

worker_config read_worker_config(settings_reader& reader) {
  worker_config config;
  const worker_config defaults;

  config.kinds.clear();
  for (const auto& name : reader.list("kinds", "imports,exports",
                                      "job kinds this worker consumes: imports, exports")) {
    const auto kind = parse_job_kind(name);
    if (!kind) {
      reader.reject("kinds", "'" + name + "' is not a job kind; use imports or exports");
      continue;
    }
    config.kinds.push_back(*kind);
  }
  if (config.kinds.empty()) {
    reader.reject("kinds", "at least one job kind is required");
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
  config.max_poll_interval_ms = reader.integer(
      "max-poll-interval", defaults.max_poll_interval_ms, 10000, 86400000, "ms",
      "Kafka max.poll.interval.ms; jobs may run longer, because the consumer polls while they run");

  read_log_settings(reader, config.log_format, config.log_level);
  return config;
}

std::string describe(const worker_config& config) {
  std::string kinds;
  for (const auto kind : config.kinds) {
    kinds += (kinds.empty() ? "" : ",") + std::string(to_string(kind));
  }
  return "kinds=" + kinds + " concurrency=" + std::to_string(config.concurrency) +
         " redis=" + config.redis_url + " kafka=" + config.kafka_brokers +
         " group_prefix=" + config.group_prefix + " blob_dir=" + config.blob_dir +
         " batch_rows=" + std::to_string(config.batch_rows) +
         " lease_ms=" + std::to_string(config.lease_ms);
}

}  // namespace jobgate::worker
