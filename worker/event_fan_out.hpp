#pragma once

#include <atomic>

#include "common/redis/redis_endpoint.hpp"
#include "worker/worker_config.hpp"

namespace jobgate::worker {

// Consumes the job event topic as consumer group PREFIX.webhooks and turns each event into one
// pending delivery per matching subscription (and the job's callbackUrl) in Redis. It commits an
// event's offset only after its deliveries are stored, so a crash means the event is read again,
// and the deliveries it created already are left as they are. Returns when stopping becomes true.
void run_event_fan_out(const worker_config& config, const redis::redis_endpoint& redis_endpoint,
                       const std::atomic<bool>& stopping);

}  // namespace jobgate::worker
