#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "common/blob/blob_store.hpp"
#include "common/jobs/job_event.hpp"
#include "common/json/schema_validator.hpp"
#include "common/log/logger.hpp"
#include "common/metrics/kafka_lag_collector.hpp"
#include "common/records/property_catalog.hpp"
#include "common/redis/async_connection.hpp"
#include "common/redis/redis_endpoint.hpp"
#include "gateway/gateway_config.hpp"
#include "gateway/job_change_feed.hpp"
#include "gateway/kafka_job_queue.hpp"
#include "gateway/quota_checks.hpp"
#include "gateway/redis_api_key_store.hpp"
#include "gateway/redis_job_repository.hpp"
#include "gateway/redis_quota_counter.hpp"
#include "gateway/redis_rate_limiter.hpp"
#include "gateway/redis_webhook_repository.hpp"
#include "gateway/router.hpp"
#include "gateway/server.hpp"

namespace asio = boost::asio;
using namespace jobgate;

int main(int argc, char** argv) {
  settings_reader reader(argc, argv,
                         [](const char* name) -> const char* { return std::getenv(name); });
  const gateway::gateway_config config = gateway::read_gateway_config(reader);
  if (reader.help_requested()) {
    std::cout << "jobgate-gateway: the HTTP API of jobgate\n\nSettings:\n" << reader.usage();
    return 0;
  }
  if (const auto errors = reader.errors(); !errors.empty()) {
    for (const auto& error : errors) {
      std::cerr << "jobgate-gateway: " << error << "\n";
    }
    return 2;
  }
  const auto endpoint = redis::parse_redis_url(config.redis_url);
  if (!endpoint) {
    std::cerr << "jobgate-gateway: invalid setting --redis-url (JOBGATE_REDIS_URL): "
              << endpoint.error().message() << "\n";
    return 2;
  }

  log::configure("jobgate-gateway", config.log_format, config.log_level);
  // A peer that closed its socket must give a write error, not end the process.
  std::signal(SIGPIPE, SIG_IGN);
  const log::logger logger;

  try {
    // One io_context per thread: a connection, its Redis commands and its Kafka delivery report
    // all complete on the thread that accepted it, so the threads do not wake each other.
    std::vector<std::unique_ptr<asio::io_context>> owned_contexts;
    std::vector<asio::io_context*> contexts;
    for (std::int64_t i = 0; i < config.threads; ++i) {
      owned_contexts.push_back(std::make_unique<asio::io_context>(1));
      contexts.push_back(owned_contexts.back().get());
    }
    asio::io_context& io = *contexts.front();
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
    for (auto* context : contexts) {
      keep_running.push_back(asio::make_work_guard(*context));
    }
    filesystem_blob_store blobs(config.blob_dir);
    const json::schema_validator import_schema("schemas/import-request.schema.json");
    const json::schema_validator export_schema("schemas/export-request.schema.json");
    const json::schema_validator property_schema("schemas/property-request.schema.json");
    const json::schema_validator webhook_schema("schemas/webhook-request.schema.json");
    const json::schema_validator webhook_update_schema("schemas/webhook-update.schema.json");
    const records::property_catalog& catalog = records::property_catalog::builtin();

    redis::async_connection redis_connection(contexts, *endpoint);
    redis_connection.start();
    gateway::job_read_cache job_cache(static_cast<std::size_t>(config.job_cache_entries),
                                      std::chrono::milliseconds(config.job_cache_max_age_ms));
    // A broker acknowledgement takes at most produce-timeout; a minute on top covers slow Redis.
    gateway::redis_job_repository repository(
        redis_connection,
        std::chrono::milliseconds(config.produce_timeout_ms) + std::chrono::minutes(1), &job_cache);
    gateway::redis_webhook_repository webhooks(redis_connection);
    gateway::redis_rate_limiter limiter(redis_connection);
    gateway::redis_api_key_store api_keys(redis_connection);
    gateway::redis_quota_counter quotas(redis_connection);
    gateway::kafka_job_queue queue(config.kafka_brokers,
                                   std::chrono::milliseconds(config.produce_timeout_ms));

    gateway::job_change_feed changes(*endpoint, logger, &job_cache);
    changes.start();

    gateway::router routes({config, repository, queue, blobs, import_schema, export_schema,
                            property_schema, catalog, changes, webhooks, webhook_schema,
                            webhook_update_schema, limiter, api_keys, quotas});
    // Queue depth per kind, so scaling on it does not depend on a worker being up.
    kafka::kafka_config admin_config;
    admin_config.brokers = config.kafka_brokers;
    admin_config.client_id = "jobgate-gateway-metrics";
    metrics::kafka_lag_collector lag(
        admin_config, {{config.group_prefix + ".imports", topic_for(job_kind::imports)},
                       {config.group_prefix + ".exports", topic_for(job_kind::exports)},
                       {config.group_prefix + ".webhooks", std::string(job_events_topic)}});
    routes.add_metrics_collector([&lag](metrics::exposition& out) { lag.collect(out); });
    routes.add_metrics_collector(
        [&job_cache](metrics::exposition& out) { job_cache.collect(out); });
    const asio::ip::tcp::endpoint listen_on(asio::ip::make_address(config.http_address),
                                            static_cast<unsigned short>(config.http_port));
    const gateway::connection_timeouts timeouts{
        std::chrono::seconds(config.idle_timeout_seconds),
        std::chrono::seconds(config.header_timeout_seconds),
        std::chrono::seconds(config.body_idle_timeout_seconds)};
    // The import route applies the tenant's own max-upload-bytes, which may be above the default.
    gateway::server http_server(contexts, listen_on, routes, timeouts,
                                gateway::largest_upload_bytes());
    http_server.start();
    logger.info("gateway started", {{"port", http_server.port()}, {"settings", describe(config)}});

    // Stopping the io_contexts abandons the handlers still running, so none of them runs against a
    // closed Redis connection or producer. The producer is flushed after the io threads end.
    const auto shut_down = [&contexts] {
      for (auto* context : contexts) {
        context->stop();
      }
    };
    // The first signal starts a drain: no new connections, /readyz 503, and requests in progress
    // get up to shutdown-timeout to finish. A second signal stops at once.
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& error, int signal_number) {
      if (error) {
        return;
      }
      logger.info("gateway draining", {{"signal", signal_number},
                                       {"active_requests", http_server.active_requests()},
                                       {"timeout_seconds", config.shutdown_timeout_seconds}});
      routes.begin_drain();
      http_server.stop();
      // Stopping the change feed wakes every event stream, and a draining router ends them.
      changes.stop();
      signals.async_wait([&](const boost::system::error_code& again, int) {
        if (!again) {
          logger.warn("second signal; stopping without waiting for requests",
                      {{"active_requests", http_server.active_requests()}});
          shut_down();
        }
      });
      asio::co_spawn(io,
                     gateway::wait_for_requests(
                         http_server, std::chrono::seconds(config.shutdown_timeout_seconds)),
                     [&](std::exception_ptr, bool drained) {
                       if (drained) {
                         logger.info("gateway drained");
                       } else {
                         logger.warn("shutdown timeout reached; closing requests in progress",
                                     {{"active_requests", http_server.active_requests()}});
                       }
                       shut_down();
                     });
    });

    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < contexts.size(); ++i) {
      threads.emplace_back([context = contexts[i]] { context->run(); });
    }
    io.run();
    for (auto& thread : threads) {
      thread.join();
    }
    queue.close();
    logger.info("gateway stopped");
  } catch (const std::exception& error) {
    logger.error("gateway failed to start", {{"error", error.what()}});
    return 1;
  }
  return 0;
}
