#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/config/settings_reader.hpp"
#include "common/log/logger.hpp"
#include "common/tenants/tenant_limits.hpp"
#include "common/webhooks/address_policy.hpp"
#include "gateway/rate_limit_policy.hpp"

namespace jobgate::gateway {

// Every setting of jobgate-gateway with its default; see read_gateway_config for units and bounds.
struct gateway_config {
  std::string http_address = "0.0.0.0";
  std::int64_t http_port = 8080;
  std::int64_t threads = 2;
  std::string public_url;  // empty: links are built from the request's Host header
  std::string redis_url = "redis://127.0.0.1:6379";
  std::string kafka_brokers = "127.0.0.1:9092";
  std::string group_prefix = "jobgate-workers";  // the workers' consumer groups, for queue depth
  std::string blob_dir = "/var/lib/jobgate/blobs";
  // SHA-256 of each API key in hex -> tenant. The keys themselves are not kept.
  std::map<std::string, std::string> api_keys;
  std::string signing_secret;
  std::int64_t max_json_bytes = 1024 * 1024;
  std::int64_t idle_timeout_seconds = 60;
  std::int64_t header_timeout_seconds = 10;
  std::int64_t body_idle_timeout_seconds = 30;
  std::int64_t produce_timeout_ms = 10000;
  // Job records kept for status reads, and how long one may serve before it is read again.
  std::int64_t job_cache_entries = 10000;
  std::int64_t job_cache_max_age_ms = 30000;
  std::int64_t shutdown_timeout_seconds = 25;
  std::int64_t download_link_ttl_seconds = 300;
  std::int64_t job_retention_hours = 72;
  std::int64_t idempotency_hours = 24;
  // The limits and quotas of tenants without their own: request rates per API key, upload size,
  // rows per file and the daily quotas. The running-jobs caps in it are the workers' business.
  tenants::tenant_limits limits;
  // Address ranges opened for webhook targets beyond public addresses, e.g. "loopback".
  std::vector<std::string> webhook_allow_addresses;
  webhooks::address_policy webhook_policy;  // built from webhook_allow_addresses
  bool webhook_allow_http = false;          // accept http:// webhook URLs, for local development
  log::output_format log_format = log::output_format::text;
  log::level log_level = log::level::info;
};

// Reads the configuration; settings problems are left in reader.errors().
gateway_config read_gateway_config(settings_reader& reader);

// Lists the effective settings for the start-up log line, with secrets masked.
std::string describe(const gateway_config& config);

}  // namespace jobgate::gateway
