#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/blob/blob_store.hpp"
#include "common/json/schema_validator.hpp"
#include "common/records/property_catalog.hpp"
#include "gateway/download_link.hpp"
#include "gateway/exchange.hpp"
#include "gateway/gateway_config.hpp"
#include "gateway/job_repository.hpp"

namespace jobgate::gateway {

// The services the handlers use, owned by main() and shared by every connection.
struct gateway_services {
  const gateway_config& config;
  job_repository& jobs;
  job_queue& queue;
  blob_store& blobs;
  const json::schema_validator& import_schema;
  const json::schema_validator& export_schema;
  const records::property_catalog& catalog;
};

// Routes each request to its handler, which records the response. Stateless apart from the
// services, so one router serves every connection and thread.
class router {
 public:
  explicit router(gateway_services services);

  boost::asio::awaitable<void> handle(exchange& current);

 private:
  boost::asio::awaitable<void> create_import(exchange& current);
  boost::asio::awaitable<void> create_export(exchange& current);
  boost::asio::awaitable<void> get_job(exchange& current, std::string_view id,
                                       std::optional<job_kind> kind);
  boost::asio::awaitable<void> get_errors(exchange& current, std::string_view id);
  boost::asio::awaitable<void> get_result(exchange& current, std::string_view id, job_kind kind);
  boost::asio::awaitable<void> cancel(exchange& current, std::string_view id, job_kind kind);
  boost::asio::awaitable<void> download(exchange& current, std::string_view id);
  boost::asio::awaitable<void> ready(exchange& current);

  // Loads a job of the caller's tenant, or records a 404 or 503 response and returns nullopt.
  boost::asio::awaitable<std::optional<job_record>> load_job(exchange& current, std::string_view id,
                                                             std::optional<job_kind> kind);
  // Stores a new job and queues it. Records 202, or the error after cleaning up.
  boost::asio::awaitable<void> submit(exchange& current, job_record job, std::string message);

  bool authenticate(exchange& current) const;
  std::string base_url(const exchange& current) const;

  gateway_services services_;
  download_link_signer signer_;
};

}  // namespace jobgate::gateway
