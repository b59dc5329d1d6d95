#include "gateway/gateway_config.hpp"

#include <algorithm>
#include <cctype>

#include "common/crypto/sha256.hpp"
#include "common/redis/redis_endpoint.hpp"
#include "common/tenants/tenant_name.hpp"
#include "common/webhooks/target_settings.hpp"

namespace jobgate::gateway {

namespace {

// Marks an API key given as the hex SHA-256 of the key.
constexpr std::string_view hashed_key_prefix = "sha256:";

}  // namespace

gateway_config read_gateway_config(settings_reader& reader) {
  gateway_config config;
  const gateway_config defaults;

  config.http_address =
      reader.text("http-address", defaults.http_address, "address the HTTP server listens on");
  config.http_port =
      reader.integer("http-port", defaults.http_port, 0, 65535, "port", "HTTP port; 0 picks one");
  config.threads = reader.integer("threads", defaults.threads, 1, 64, "threads",
                                  "io threads, each with its own io_context and Redis connection");
  config.public_url = reader.text("public-url", "",
                                  "base URL for links, e.g. https://jobs.example.com; default: "
                                  "built from the Host header");
  config.redis_url = reader.text("redis-url", defaults.redis_url, "Redis server URL");
  config.kafka_brokers = reader.text("kafka-brokers", defaults.kafka_brokers,
                                     "Kafka bootstrap servers, host:port,...");
  config.group_prefix =
      reader.text("group-prefix", defaults.group_prefix,
                  "consumer group prefix of the workers (PREFIX.KIND), for the queue depth in "
                  "/metrics");
  config.blob_dir = reader.text("blob-dir", defaults.blob_dir,
                                "directory for uploads and results, shared with the workers");
  for (const auto& entry :
       reader.list("api-keys", "",
                   "API keys as key=tenant or sha256:HEX=tenant pairs, comma-separated; only the "
                   "SHA-256 of each key is kept")) {
    const auto equals = entry.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == entry.size()) {
      reader.reject("api-keys", "an entry is not of the form key=tenant");
      continue;
    }
    const std::string tenant = entry.substr(equals + 1);
    if (!tenants::is_valid_tenant_name(tenant)) {
      reader.reject("api-keys",
                    "tenant '" + tenant + "' must be 1 to 64 letters, digits, '-' or '_'");
      continue;
    }
    const std::string key = entry.substr(0, equals);
    if (key.starts_with(hashed_key_prefix)) {
      std::string digest = key.substr(hashed_key_prefix.size());
      std::transform(digest.begin(), digest.end(), digest.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      const bool hex = digest.size() == 64 && std::all_of(digest.begin(), digest.end(), [](char c) {
                         return std::isxdigit(static_cast<unsigned char>(c));
                       });
      if (!hex) {
        reader.reject("api-keys", "a sha256: entry needs 64 hex digits");
        continue;
      }
      config.api_keys[digest] = tenant;
    } else {
      config.api_keys[crypto::sha256_hex(key)] = tenant;
    }
  }
  if (config.api_keys.empty()) {
    reader.reject("api-keys", "at least one key=tenant pair is required");
  }
  config.signing_secret =
      reader.text("signing-secret", "", "secret for HMAC-signed download links, 32+ characters");
  if (config.signing_secret.size() < 32) {
    reader.reject("signing-secret", "must be at least 32 characters");
  }
  config.max_json_bytes = reader.integer("max-json-bytes", defaults.max_json_bytes, 1024,
                                         64 * 1024 * 1024, "bytes", "largest JSON body accepted");
  config.idle_timeout_seconds = reader.integer(
      "idle-timeout", defaults.idle_timeout_seconds, 1, 3600, "seconds",
      "time a kept-alive connection may wait for the next request, and the limit for each write");
  config.header_timeout_seconds =
      reader.integer("header-timeout", defaults.header_timeout_seconds, 1, 3600, "seconds",
                     "time from a request's first possible byte until its header is complete");
  config.body_idle_timeout_seconds =
      reader.integer("body-idle-timeout", defaults.body_idle_timeout_seconds, 1, 3600, "seconds",
                     "time a request body may stall without a byte arriving");
  config.produce_timeout_ms =
      reader.integer("produce-timeout", defaults.produce_timeout_ms, 100, 300000, "ms",
                     "time Kafka has to acknowledge a job message");
  config.job_cache_entries =
      reader.integer("job-cache-entries", defaults.job_cache_entries, 0, 10000000, "entries",
                     "job records kept for status reads, each dropped when Redis reports a change "
                     "of the job; 0 reads every status from Redis");
  config.job_cache_max_age_ms =
      reader.integer("job-cache-max-age", defaults.job_cache_max_age_ms, 100, 3600000, "ms",
                     "time a cached job record may serve status reads before it is read again");
  config.shutdown_timeout_seconds =
      reader.integer("shutdown-timeout", defaults.shutdown_timeout_seconds, 0, 3600, "seconds",
                     "time a stopping gateway lets requests in progress finish before it closes "
                     "their connections");
  config.download_link_ttl_seconds =
      reader.integer("download-link-ttl", defaults.download_link_ttl_seconds, 10, 7 * 24 * 3600,
                     "seconds", "lifetime of a signed download link");
  config.job_retention_hours =
      reader.integer("job-retention", defaults.job_retention_hours, 1, 24 * 365, "hours",
                     "time a finished job and its result are kept");
  config.idempotency_hours =
      reader.integer("idempotency-retention", defaults.idempotency_hours, 1, 24 * 30, "hours",
                     "time the response to a POST with an Idempotency-Key is kept for replays");
  tenants::read_limit_settings(reader, tenants::limit_owner::gateway, config.limits);

  auto targets = webhooks::read_target_settings(reader);
  config.webhook_allow_addresses = std::move(targets.allow_addresses);
  config.webhook_policy = std::move(targets.policy);
  config.webhook_allow_http = targets.allow_http;

  read_log_settings(reader, config.log_format, config.log_level);
  return config;
}

std::string describe(const gateway_config& config) {
  return "http=" + config.http_address + ":" + std::to_string(config.http_port) +
         " threads=" + std::to_string(config.threads) +
         " redis=" + redis::masked_redis_url(config.redis_url) + " kafka=" + config.kafka_brokers +
         " blob_dir=" + config.blob_dir + " api_keys=" + std::to_string(config.api_keys.size()) +
         " signing_secret=" + mask_secret(config.signing_secret) +
         " idle_timeout_seconds=" + std::to_string(config.idle_timeout_seconds) +
         " header_timeout_seconds=" + std::to_string(config.header_timeout_seconds) +
         " body_idle_timeout_seconds=" + std::to_string(config.body_idle_timeout_seconds) +
         " shutdown_timeout_seconds=" + std::to_string(config.shutdown_timeout_seconds) +
         " job_retention_hours=" + std::to_string(config.job_retention_hours) +
         " idempotency_hours=" + std::to_string(config.idempotency_hours) +
         describe_limits(config.limits, tenants::limit_owner::gateway) +
         " webhook_allow_addresses=" + std::to_string(config.webhook_allow_addresses.size()) +
         " webhook_allow_http=" + (config.webhook_allow_http ? "true" : "false");
}

}  // namespace jobgate::gateway
