#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/blob/blob_store.hpp"
#include "common/json/schema_validator.hpp"
#include "common/records/property_catalog.hpp"
#include "gateway/api_key_store.hpp"
#include "gateway/download_link.hpp"
#include "gateway/exchange.hpp"
#include "gateway/gateway_config.hpp"
#include "gateway/gateway_metrics.hpp"
#include "gateway/job_change_feed.hpp"
#include "gateway/job_repository.hpp"
#include "gateway/quota_counter.hpp"
#include "gateway/rate_limiter.hpp"
#include "gateway/tenant_directory.hpp"
#include "gateway/webhook_repository.hpp"
#include "gateway/webhook_routes.hpp"

namespace jobgate::gateway {

// The services the handlers use, owned by main() and shared by every connection.
struct gateway_services {
  const gateway_config& config;
  job_repository& jobs;
  job_queue& queue;
  blob_store& blobs;
  const json::schema_validator& import_schema;
  const json::schema_validator& export_schema;
  const json::schema_validator& property_schema;
  const records::property_catalog& catalog;
  job_change_feed& changes;
  webhook_repository& webhooks;
  const json::schema_validator& webhook_schema;
  const json::schema_validator& webhook_update_schema;
  rate_limiter& limiter;
  api_key_store& api_keys;
  quota_counter& quotas;
};

// Routes each request to its handler, which records the response. Stateless apart from the
// services, so one router serves every connection and thread.
class router {
 public:
  explicit router(gateway_services services);

  boost::asio::awaitable<void> handle(exchange& current);

  // Adds families to GET /metrics that are computed at scrape time. Call before serving.
  void add_metrics_collector(std::function<void(metrics::exposition&)> collector) {
    metrics_.add_collector(std::move(collector));
  }

  // Makes /readyz return 503 and event streams end, because the gateway is shutting down.
  void begin_drain() { draining_.store(true); }

  // Counts a finished request for GET /metrics; safe from any thread.
  void record_request(std::string_view method, std::string_view path,
                      boost::beast::http::status status, std::chrono::nanoseconds elapsed) {
    metrics_.record_request(method, path, status, elapsed);
  }

 private:
  boost::asio::awaitable<void> create_import(exchange& current);
  boost::asio::awaitable<void> create_export(exchange& current);
  // Reads a JSON request body, or records 415, 413 or 400 and returns nullopt. `what` names the
  // body in the 415 detail, for example "An export request".
  boost::asio::awaitable<std::optional<std::string>> read_json_body(exchange& current,
                                                                    std::string_view what);
  boost::asio::awaitable<void> get_job(exchange& current, std::string_view id,
                                       std::optional<job_kind> kind);
  boost::asio::awaitable<void> get_properties(exchange& current, std::string_view object_type,
                                              std::string_view name);
  boost::asio::awaitable<void> create_property(exchange& current, std::string_view object_type);
  // Reads the tenant's custom property definitions, or records a 503 and returns nullopt.
  boost::asio::awaitable<std::optional<std::map<std::string, std::vector<std::string>>>>
  load_custom_properties(exchange& current);
  // The built-in catalog with the tenant's custom properties, or nullopt after recording a 500.
  std::optional<records::property_catalog> tenant_catalog(
      exchange& current, const std::map<std::string, std::vector<std::string>>& custom) const;
  boost::asio::awaitable<void> get_record(exchange& current, std::string_view object_type,
                                          std::string_view encoded_key);
  boost::asio::awaitable<void> list_jobs(exchange& current, std::optional<job_kind> kind);
  boost::asio::awaitable<void> stream_events(exchange& current, std::string_view id,
                                             std::optional<job_kind> kind);
  boost::asio::awaitable<void> get_errors(exchange& current, std::string_view id);
  boost::asio::awaitable<void> get_result(exchange& current, std::string_view id, job_kind kind);
  boost::asio::awaitable<void> cancel(exchange& current, std::string_view id, job_kind kind);
  boost::asio::awaitable<void> download(exchange& current, std::string_view id);
  boost::asio::awaitable<void> ready(exchange& current);

  // Parses a job id of `kind` (any kind when empty), or records a 404 and returns nullopt.
  static std::optional<job_id> parse_job_id(exchange& current, std::string_view id,
                                            std::optional<job_kind> kind);
  // Records the response for a read of job `id` that found no job of the caller's tenant: 503
  // when the read failed with read_error, with expired_is_gone 410 result-expired when the job
  // finished and has since expired, and otherwise 404.
  boost::asio::awaitable<void> respond_job_missing(
      exchange& current, std::string_view id, const job_id& parsed,
      std::optional<boost::system::error_code> read_error, bool expired_is_gone);
  // Loads a job of the caller's tenant, or records a 404, 410 or 503 response (as
  // respond_job_missing) and returns nullopt.
  boost::asio::awaitable<std::optional<job_record>> load_job(exchange& current, std::string_view id,
                                                             std::optional<job_kind> kind,
                                                             bool expired_is_gone = false);
  // Loads a job for a status read, which may come from the job read cache, or records a 404 or
  // 503 response and returns null.
  boost::asio::awaitable<std::shared_ptr<const job_snapshot>> load_status(
      exchange& current, std::string_view id, std::optional<job_kind> kind);
  // Stores a new job and queues it. Records 202, or the error after cleaning up.
  // With a non-empty fingerprint, the request's Idempotency-Key is claimed first. The job then
  // counts against the tenant's daily quota, and gets 429 when the quota is used up.
  boost::asio::awaitable<void> submit(exchange& current, job_record job, std::string message,
                                      std::string fingerprint, quota_request quota);
  // Checks the callbackUrl of a validated job request and copies it to the job, or records the
  // problem and returns false. `field` is the member's JSON pointer in the body.
  boost::asio::awaitable<bool> take_callback_url(exchange& current, const json::document& request,
                                                 job_record& job, std::string field);
  boost::asio::awaitable<void> release_idempotency_key(exchange& current, const std::string& tenant,
                                                       const std::string& key_digest,
                                                       const std::string& fingerprint);
  void respond_accepted(exchange& current, const idempotency_claim& response, bool replayed) const;
  void respond_to_claimed_key(exchange& current, const idempotency_claim& claim) const;

  // Sets the tenant and limits of the request's API key and returns the key's SHA-256 in hex.
  // Otherwise it records 401 when the key is missing or unknown, or 503 when the key store is
  // unavailable, and returns nullopt.
  boost::asio::awaitable<std::optional<std::string>> authenticate(exchange& current);
  // Counts the request against its API key's limit and adds the RateLimit fields to the response.
  // Returns true when the request may proceed. Otherwise it records 429 when the key is over the
  // limit, or 503 when Redis is unavailable, and returns false.
  boost::asio::awaitable<bool> check_rate_limit(exchange& current, const std::string& key_digest);
  // The limit of `kind` among the request's effective limits.
  static rate_limit_policy limit_for(const exchange& current, limit_kind kind);
  std::string base_url(const exchange& current) const;

  gateway_services services_;
  download_link_signer signer_;
  gateway_metrics metrics_;
  tenant_directory tenants_;
  webhook_routes webhooks_;
  std::atomic<bool> draining_{false};
};

}  // namespace jobgate::gateway
