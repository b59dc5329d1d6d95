#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/blob/blob_store.hpp"
#include "common/jobs/job_event.hpp"
#include "common/json/schema_validator.hpp"
#include "common/kafka/kafka_producer.hpp"
#include "common/log/logger.hpp"
#include "common/metrics/kafka_lag_collector.hpp"
#include "common/redis/async_connection.hpp"
#include "common/redis/connection.hpp"
#include "common/redis/eviction_policy.hpp"
#include "common/redis/redis_endpoint.hpp"
#include "worker/consumer_loop.hpp"
#include "worker/event_fan_out.hpp"
#include "worker/job_sweeper.hpp"
#include "worker/metrics_server.hpp"
#include "worker/slot_reporter.hpp"
#include "worker/webhook_dispatcher.hpp"
#include "worker/webhook_sender.hpp"
#include "worker/worker_config.hpp"

using namespace jobgate;

namespace {

// Waits until Redis reports maxmemory-policy noeviction, reading it every 5 s and logging the
// error every 30 s, so an evicting Redis never gets jobs processed. Returns false when SIGINT or
// SIGTERM arrives first, which the caller must have blocked.
bool wait_for_noeviction(const redis::redis_endpoint& endpoint, const sigset_t& stop_signals,
                         const log::logger& logger) {
  using clock = std::chrono::steady_clock;
  constexpr std::chrono::seconds check_interval{5};
  constexpr std::chrono::seconds log_interval{30};

  std::optional<redis::connection> connection;
  std::optional<clock::time_point> logged_at;
  while (true) {
    std::string problem;
    if (!connection) {
      auto opened = redis::connection::connect(endpoint);
      if (opened) {
        connection.emplace(std::move(*opened));
      } else {
        problem =
            "failed to connect to Redis to read maxmemory-policy: " + opened.error().message();
      }
    }
    if (connection) {
      const auto policy = redis::read_eviction_policy(*connection);
      if (!policy) {
        problem = "failed to read Redis maxmemory-policy: " + policy.error().message();
      } else if (policy->keeps_keys()) {
        if (logged_at) {
          logger.info("Redis maxmemory-policy is noeviction now, so consuming starts");
        }
        return true;
      } else {
        problem = policy->problem();
      }
    }

    if (!logged_at || clock::now() - *logged_at >= log_interval) {
      logger.error("worker does not consume until Redis is safe for jobs", {{"error", problem}});
      logged_at = clock::now();
    }
    const timespec timeout{check_interval.count(), 0};
    if (sigtimedwait(&stop_signals, nullptr, &timeout) > 0) {
      return false;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  settings_reader reader(argc, argv,
                         [](const char* name) -> const char* { return std::getenv(name); });
  const worker::worker_config config = worker::read_worker_config(reader);
  if (reader.help_requested()) {
    std::cout << "jobgate-worker: runs import and export jobs from Kafka and delivers webhooks\n\n"
                 "Settings:\n"
              << reader.usage();
    return 0;
  }
  if (const auto errors = reader.errors(); !errors.empty()) {
    for (const auto& error : errors) {
      std::cerr << "jobgate-worker: " << error << "\n";
    }
    return 2;
  }
  const auto endpoint = redis::parse_redis_url(config.redis_url);
  if (!endpoint) {
    std::cerr << "jobgate-worker: invalid setting --redis-url (JOBGATE_REDIS_URL): "
              << endpoint.error().message() << "\n";
    return 2;
  }

  log::configure("jobgate-worker", config.log_format, config.log_level);
  // hiredis writes with write(2): a Redis that went away must give an error, not end the process.
  std::signal(SIGPIPE, SIG_IGN);
  const log::logger logger;

  // SIGINT and SIGTERM are taken by sigwait below, so every thread starts with them blocked.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  try {
    filesystem_blob_store blobs(config.blob_dir);
    const json::schema_validator message_schema("schemas/job-message.schema.json");
    kafka::kafka_config producer_config;
    producer_config.brokers = config.kafka_brokers;
    producer_config.client_id = "jobgate-worker";
    // A job slot waits for each final event it produces, so batching gains nothing there, and
    // librdkafka's default linger of 5 ms would delay every job by as much.
    producer_config.overrides.emplace_back("linger.ms", "0");
    kafka::kafka_producer producer(producer_config);

    // The listener starts first, so liveness probes pass while the worker waits for Redis.
    worker::worker_metrics process_metrics;
    std::vector<metrics::watched_group> watched;
    for (const auto kind : config.kinds) {
      watched.push_back(
          {config.group_prefix + "." + std::string(to_string(kind)), topic_for(kind)});
    }
    if (config.webhooks) {
      watched.push_back({config.group_prefix + ".webhooks", std::string(job_events_topic)});
    }
    kafka::kafka_config admin_config;
    admin_config.brokers = config.kafka_brokers;
    admin_config.client_id = "jobgate-worker-metrics";
    metrics::kafka_lag_collector lag(admin_config, std::move(watched));
    process_metrics.add_collector([&lag](metrics::exposition& out) { lag.collect(out); });
    worker::metrics_server metrics_listener(
        config.metrics_address, static_cast<std::uint16_t>(config.metrics_port),
        [&process_metrics] { return process_metrics.render(); });
    metrics_listener.start();
    logger.info("metrics listening",
                {{"address", config.metrics_address}, {"port", metrics_listener.port()}});

    if (!wait_for_noeviction(*endpoint, stop_signals, logger)) {
      logger.info("worker stopped before consuming");
      return 0;
    }

    std::atomic<bool> stopping{false};
    std::vector<std::thread> slots;
    for (const auto kind : config.kinds) {
      for (int slot = 0; slot < config.concurrency; ++slot) {
        slots.emplace_back([&, kind, slot] {
          worker::run_consumer_loop(config, kind, slot, *endpoint, blobs, producer, message_schema,
                                    process_metrics, stopping);
        });
      }
    }
    if (!config.kinds.empty()) {
      slots.emplace_back([&] {
        worker::slot_reporter reporter(
            *endpoint, worker::make_worker_id(),
            [&] {
              std::vector<worker_slots::kind_slots> usage;
              for (const auto kind : config.kinds) {
                usage.push_back(process_metrics.slot_usage(kind));
              }
              return usage;
            },
            std::chrono::milliseconds(config.slots_report_interval_ms));
        reporter.run(stopping);
      });
      // Sweepers of all workers share the work, so one per process is enough. It sweeps every
      // quarter of the lease (at least every 250 ms, at most every 5 s), which bounds the takeover
      // delay.
      const auto sweep_interval =
          std::clamp(std::chrono::milliseconds(config.lease_ms / 4), std::chrono::milliseconds(250),
                     std::chrono::milliseconds(5000));
      slots.emplace_back([&, sweep_interval] {
        while (!stopping.load()) {
          auto connection = redis::connection::connect(*endpoint);
          if (connection) {
            worker::job_sweeper sweeper(std::move(*connection), producer, config.limits, &blobs);
            sweeper.run(sweep_interval, stopping);
            return;
          }
          logger.warn("sweeper cannot reach Redis; retrying",
                      {{"error", connection.error().message()}});
          std::this_thread::sleep_for(sweep_interval);
        }
      });
    }

    // Webhooks: one thread turns events into deliveries, one sends them on an io_context.
    std::optional<worker::webhook_sender> sender;
    if (config.webhooks) {
      worker::webhook_sender_options options;
      options.connect_timeout = std::chrono::milliseconds(config.webhook_connect_timeout_ms);
      options.response_timeout = std::chrono::milliseconds(config.webhook_response_timeout_ms);
      options.allow_http = config.webhook_allow_http;
      options.ca_file = config.webhook_ca_file;
      options.policy = config.webhook_policy;
      sender.emplace(std::move(options));
      slots.emplace_back([&] { worker::run_event_fan_out(config, *endpoint, stopping); });
      slots.emplace_back([&] {
        boost::asio::io_context io(1);
        redis::async_connection redis(io.get_executor(), *endpoint);
        redis.start();
        worker::webhook_dispatcher dispatcher(config, redis, *sender, process_metrics);
        boost::asio::co_spawn(
            io,
            [&]() -> boost::asio::awaitable<void> {
              co_await dispatcher.run(stopping, std::chrono::seconds(10));
              redis.close();
            },
            boost::asio::detached);
        io.run();
      });
    }
    logger.info("worker started", {{"settings", worker::describe(config)}});

    int received = 0;
    sigwait(&stop_signals, &received);
    logger.info("worker stopping", {{"signal", received}});
    stopping = true;
    for (auto& slot : slots) {
      slot.join();
    }
    producer.close(std::chrono::seconds(10));
    metrics_listener.stop();
    logger.info("worker stopped");
  } catch (const std::exception& error) {
    logger.error("worker failed to start", {{"error", error.what()}});
    return 1;
  }
  return 0;
}
