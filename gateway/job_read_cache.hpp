#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/jobs/job.hpp"
#include "common/metrics/metrics_registry.hpp"
#include "gateway/job_snapshot.hpp"

namespace jobgate::gateway {

// Job records that status reads have loaded, kept until Redis reports a change of the job.
//
// The change feed's connection turns on CLIENT TRACKING in broadcast mode for the prefix of job
// keys, redirected to itself. Whenever a job key changes in any way (a write by any client, expiry,
// eviction, deletion or FLUSHALL), Redis then sends an invalidation message to that connection,
// whichever connection read the key.
//
// Four rules keep an entry from outliving a change:
// - A load reserves its entry before the read is sent, and an invalidation that arrives before the
//   reply removes the reservation, so the reply is not stored.
// - When the feed's connection drops, every entry goes, and loads that started before are not
//   stored: each drop starts a new epoch, and a load stores only into the epoch it started in.
// - An entry lives no longer than its key's time to live as the load read it. Redis reports an
//   expired key only once it deletes it, which may be long after. A later EXPIRE or PERSIST sends
//   an invalidation.
// - An entry older than max_age is reloaded. This bounds how long a change can go unseen if the
//   feed's connection hangs without dropping, or if SWAPDB swaps the job out, which Redis never
//   reports.
//
// A read can still trail a change by the time the invalidation takes to reach the feed, like a
// read that was in flight when the change happened. Safe to call from any thread.
class job_read_cache {
 public:
  // The reservation of one load, 0 when the cache is off or Redis is not tracking job keys for
  // it, and the epoch and time the load started in.
  struct load_ticket {
    std::uint64_t reservation = 0;
    std::uint64_t epoch = 0;
    std::chrono::steady_clock::time_point started_at;
  };

  // max_entries 0 turns the cache off.
  job_read_cache(std::size_t max_entries, std::chrono::milliseconds max_age);

  // Returns the snapshot of job_id when its entry is current, without touching Redis.
  std::shared_ptr<const job_snapshot> find(const std::string& job_id);

  // Reserves the entry of job_id for a load that is about to be sent.
  load_ticket begin_load(const std::string& job_id);
  // Stores the loaded record when the reservation still holds, until the key's time to live, read
  // with the record, runs out. No time to live means the key does not expire. A record that
  // changes without a change of its own key (a deferred job's queue position) is never stored.
  // Returns the snapshot for the load's own read, the stored one when the record was stored.
  std::shared_ptr<const job_snapshot> finish_load(
      const std::string& job_id, const load_ticket& ticket, job_record job,
      std::optional<std::chrono::milliseconds> time_to_live);

  // Called by the change feed: its connection tracks job keys and is subscribed to their
  // invalidations, or it dropped.
  void tracking_started();
  void tracking_lost();
  // Drops the entry of a job that changed. The change feed calls it for each changed job.
  void invalidate_job(std::string_view job_id);
  // Drops every entry, for FLUSHALL and FLUSHDB.
  void invalidate_all();

  // Writes the cache's lookups by result and its entries for /metrics.
  void collect(metrics::exposition& out) const;

  bool enabled() const noexcept { return max_entries_ > 0; }
  std::size_t size() const;
  std::uint64_t hits() const noexcept { return hits_.load(std::memory_order_relaxed); }
  std::uint64_t misses() const noexcept { return misses_.load(std::memory_order_relaxed); }

 private:
  struct entry {
    std::uint64_t reservation = 0;
    std::uint64_t epoch = 0;
    std::shared_ptr<const job_snapshot> job;  // null while the load is in flight
    std::chrono::steady_clock::time_point expires_at;
  };
  struct shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, entry> entries;
  };
  static constexpr std::size_t shard_count = 16;

  shard& shard_of(std::string_view job_id);
  // Starts a new epoch, so that no load begun before it stores, and drops every entry. With a
  // value, tracking_ takes it.
  void start_epoch(std::optional<bool> tracking);
  void clear_all();

  const std::size_t max_entries_;
  const std::size_t max_entries_per_shard_;
  const std::chrono::milliseconds max_age_;
  std::array<shard, shard_count> shards_;
  // Guards the pair of epoch and tracking state, so that a load never starts as tracked in one
  // epoch and stores into another. current_epoch_ mirrors epoch_ for lookups.
  std::mutex epoch_mutex_;
  std::uint64_t epoch_ = 1;
  bool tracking_ = false;
  std::atomic<std::uint64_t> current_epoch_{1};
  std::atomic<std::uint64_t> next_reservation_{1};
  std::atomic<std::uint64_t> hits_{0};
  std::atomic<std::uint64_t> misses_{0};
};

}  // namespace jobgate::gateway
