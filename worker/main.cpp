#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>
#include <vector>

#include "common/blob/blob_store.hpp"
#include "common/json/schema_validator.hpp"
#include "common/kafka/kafka_producer.hpp"
#include "common/log/logger.hpp"
#include "common/redis/redis_endpoint.hpp"
#include "worker/consumer_loop.hpp"
#include "worker/worker_config.hpp"

using namespace jobgate;

int main(int argc, char** argv) {
  settings_reader reader(argc, argv,
                         [](const char* name) -> const char* { return std::getenv(name); });
  const worker::worker_config config = worker::read_worker_config(reader);
  if (reader.help_requested()) {
    std::cout << "jobgate-worker: runs import and export jobs from Kafka\n\nSettings:\n"
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
    kafka::kafka_producer producer(producer_config);

    std::atomic<bool> stopping{false};
    std::vector<std::thread> slots;
    for (const auto kind : config.kinds) {
      for (int slot = 0; slot < config.concurrency; ++slot) {
        slots.emplace_back([&, kind, slot] {
          worker::run_consumer_loop(config, kind, slot, *endpoint, blobs, producer, message_schema,
                                    stopping);
        });
      }
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
    logger.info("worker stopped");
  } catch (const std::exception& error) {
    logger.error("worker failed to start", {{"error", error.what()}});
    return 1;
  }
  return 0;
}
