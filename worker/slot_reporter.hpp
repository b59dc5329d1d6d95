#pragma once

#include <atomic>
#include <boost/system/result.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/jobs/worker_slots.hpp"
#include "common/log/logger.hpp"
#include "common/redis/connection.hpp"
#include "common/redis/redis_endpoint.hpp"

namespace jobgate::worker {

// Writes this worker process's slots and busy slots to Redis every interval, so the gateway can
// report the utilisation of all workers together. A report lapses after three intervals without
// a new one, and a worker that stops cleanly removes its report at once.
class slot_reporter {
 public:
  using usage_source = std::function<std::vector<worker_slots::kind_slots>()>;

  slot_reporter(redis::redis_endpoint endpoint, std::string worker_id, usage_source usage,
                std::chrono::milliseconds interval);

  // Reports until stopping is set, then removes the report. Reconnects after a failure and logs
  // only the first failure of a run of them.
  void run(const std::atomic<bool>& stopping);

  // One report on a connection, lapsing after `lapse`.
  static boost::system::result<void> report(redis::connection& connection,
                                            const std::string& worker_id,
                                            std::span<const worker_slots::kind_slots> kinds,
                                            std::chrono::milliseconds lapse);
  static boost::system::result<void> remove(redis::connection& connection,
                                            const std::string& worker_id);

 private:
  redis::redis_endpoint endpoint_;
  std::string worker_id_;
  usage_source usage_;
  std::chrono::milliseconds interval_;
  log::logger logger_;
};

// Returns an id that no other worker process has: host name, process id and a random part,
// because containers reuse process ids.
std::string make_worker_id();

}  // namespace jobgate::worker
