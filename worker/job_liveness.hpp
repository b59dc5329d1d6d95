#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace jobgate::worker {

// The state of the attempt that a job thread runs, shared with its consumer thread. The job
// thread announces the attempt and beats while it makes progress. The consumer thread renews the
// attempt's lease in Redis only while the beats keep coming, so a job thread that hangs loses it.
class job_liveness {
 public:
  // The job thread holds the lease of this attempt from now on.
  void begin(const std::string& job_id, std::int64_t attempt) {
    std::lock_guard lock(mutex_);
    job_id_ = job_id;
    attempt_ = attempt;
    beats_.fetch_add(1);
  }

  // The attempt ended; nothing to renew until the next begin.
  void end() {
    std::lock_guard lock(mutex_);
    job_id_.clear();
    attempt_ = 0;
  }

  void beat() { beats_.fetch_add(1, std::memory_order_relaxed); }

  std::uint64_t beats() const { return beats_.load(std::memory_order_relaxed); }

  // The running attempt, or an empty id when none holds a lease.
  std::pair<std::string, std::int64_t> current() const {
    std::lock_guard lock(mutex_);
    return {job_id_, attempt_};
  }

 private:
  std::atomic<std::uint64_t> beats_{0};
  mutable std::mutex mutex_;
  std::string job_id_;
  std::int64_t attempt_ = 0;
};

}  // namespace jobgate::worker
