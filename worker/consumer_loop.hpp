#pragma once

#include <atomic>

#include "common/blob/blob_store.hpp"
#include "common/json/schema_validator.hpp"
#include "common/kafka/kafka_producer.hpp"
#include "common/redis/redis_endpoint.hpp"
#include "worker/worker_config.hpp"
#include "worker/worker_metrics.hpp"

namespace jobgate::worker {

// Runs one processing slot: a consumer-group member for one job kind that handles one job at a
// time on the calling thread. It commits a message's offset only after its job reached a final
// state, so a crash means redelivery. Returns when stopping becomes true.
void run_consumer_loop(const worker_config& config, job_kind kind, int slot,
                       const redis::redis_endpoint& redis_endpoint, blob_store& blobs,
                       kafka::kafka_producer& producer,
                       const json::schema_validator& message_schema, worker_metrics& metrics,
                       const std::atomic<bool>& stopping);

}  // namespace jobgate::worker
