#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config/settings_reader.hpp"
#include "common/jobs/job.hpp"
#include "common/log/logger.hpp"
#include "common/tenants/tenant_limits.hpp"
#include "common/webhooks/address_policy.hpp"
#include "common/webhooks/retry_schedule.hpp"

namespace jobgate::worker {

// Every setting of jobgate-worker with its default; see read_worker_config for units and bounds.
struct worker_config {
  std::vector<job_kind> kinds = {job_kind::imports, job_kind::exports};
  std::int64_t concurrency = 2;  // jobs run at once per kind
  std::string redis_url = "redis://127.0.0.1:6379";
  std::string kafka_brokers = "127.0.0.1:9092";
  std::string group_prefix = "jobgate-workers";
  std::string blob_dir = "/var/lib/jobgate/blobs";
  std::int64_t batch_rows = 500;
  std::int64_t progress_interval_ms = 500;
  std::int64_t job_retention_hours = 72;
  std::int64_t max_poll_interval_ms = 1800000;
  std::int64_t max_attempts = 10;
  std::int64_t lease_ms = 30000;
  // How often the worker writes its slots and busy slots to Redis for the gateway's fleet metrics.
  std::int64_t slots_report_interval_ms = 5000;
  // The running-jobs caps of tenants without their own; the other fields are the gateway's.
  tenants::tenant_limits limits;
  // Webhook delivery, on when kinds lists "webhooks".
  bool webhooks = false;
  std::int64_t webhook_concurrency = 32;        // deliveries in flight at once
  std::int64_t webhook_target_concurrency = 4;  // of those, to one target at most
  std::int64_t webhook_connect_timeout_ms = 5000;
  std::int64_t webhook_response_timeout_ms = 15000;
  bool webhook_allow_http = false;
  std::vector<std::string> webhook_allow_addresses;
  webhooks::address_policy webhook_policy;
  std::string webhook_ca_file;
  webhooks::retry_schedule webhook_retries = webhooks::retry_schedule::standard();
  std::int64_t webhook_disable_after_ms = 5LL * 24 * 3600 * 1000;
  std::int64_t webhook_retention_hours = 30 * 24;
  std::string public_url = "http://127.0.0.1:8080";
  std::string metrics_address = "0.0.0.0";
  std::int64_t metrics_port = 9090;  // 0 picks a free port
  log::output_format log_format = log::output_format::text;
  log::level log_level = log::level::info;
};

// Reads the configuration; settings problems are left in reader.errors().
worker_config read_worker_config(settings_reader& reader);

// Lists the effective settings for the start-up log line.
std::string describe(const worker_config& config);

}  // namespace jobgate::worker
