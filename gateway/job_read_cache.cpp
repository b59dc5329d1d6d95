#include "gateway/job_read_cache.hpp"

#include <algorithm>
#include <functional>

namespace jobgate::gateway {

job_read_cache::job_read_cache(std::size_t max_entries, std::chrono::milliseconds max_age)
    : max_entries_(max_entries),
      max_entries_per_shard_((max_entries + shard_count - 1) / shard_count),
      max_age_(max_age) {}

job_read_cache::shard& job_read_cache::shard_of(std::string_view job_id) {
  return shards_[std::hash<std::string_view>{}(job_id) % shard_count];
}

std::shared_ptr<const job_snapshot> job_read_cache::find(const std::string& job_id) {
  if (!enabled()) {
    return nullptr;
  }
  const auto epoch = current_epoch_.load(std::memory_order_acquire);
  const auto now = std::chrono::steady_clock::now();
  auto& part = shard_of(job_id);
  {
    const std::lock_guard lock(part.mutex);
    const auto found = part.entries.find(job_id);
    if (found != part.entries.end() && found->second.job && found->second.epoch == epoch &&
        now < found->second.expires_at) {
      hits_.fetch_add(1, std::memory_order_relaxed);
      return found->second.job;
    }
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  return nullptr;
}

job_read_cache::load_ticket job_read_cache::begin_load(const std::string& job_id) {
  load_ticket ticket;
  if (!enabled()) {
    return ticket;
  }
  {
    const std::lock_guard lock(epoch_mutex_);
    if (!tracking_) {
      return ticket;
    }
    ticket.epoch = epoch_;
  }
  ticket.started_at = std::chrono::steady_clock::now();
  ticket.reservation = next_reservation_.fetch_add(1, std::memory_order_relaxed);
  auto& part = shard_of(job_id);
  const std::lock_guard lock(part.mutex);
  if (part.entries.size() >= max_entries_per_shard_ && !part.entries.contains(job_id)) {
    // A full shard drops whichever entry comes first, and a later read loads that job again.
    part.entries.erase(part.entries.begin());
  }
  part.entries.insert_or_assign(job_id, entry{ticket.reservation, ticket.epoch, nullptr, {}});
  return ticket;
}

std::shared_ptr<const job_snapshot> job_read_cache::finish_load(
    const std::string& job_id, const load_ticket& ticket, job_record job,
    std::optional<std::chrono::milliseconds> time_to_live) {
  // Both limits count from the start of the load, which came before Redis read the key.
  const auto lifetime = time_to_live ? std::min(*time_to_live, max_age_) : max_age_;
  // A deferred job's queue position comes from the tenant's queue, whose changes do not touch
  // the job's key.
  const bool cacheable =
      !(job.status == job_status::pending && job.deferred_cap > 0) && lifetime.count() > 0;
  // Status reads render neither the queue message nor the request body.
  job.message.clear();
  job.request_json.clear();
  auto loaded = std::make_shared<const job_snapshot>(std::move(job));
  if (ticket.reservation == 0) {
    return loaded;
  }
  auto& part = shard_of(job_id);
  const std::lock_guard lock(part.mutex);
  const auto found = part.entries.find(job_id);
  if (found == part.entries.end() || found->second.reservation != ticket.reservation) {
    return loaded;
  }
  if (!cacheable) {
    part.entries.erase(found);
    return loaded;
  }
  found->second.job = loaded;
  found->second.expires_at = ticket.started_at + lifetime;
  return loaded;
}

void job_read_cache::tracking_started() {
  start_epoch(true);
}

void job_read_cache::tracking_lost() {
  start_epoch(false);
}

void job_read_cache::start_epoch(std::optional<bool> tracking) {
  {
    const std::lock_guard lock(epoch_mutex_);
    if (tracking) {
      tracking_ = *tracking;
    }
    ++epoch_;
    current_epoch_.store(epoch_, std::memory_order_release);
  }
  clear_all();
}

void job_read_cache::invalidate_job(std::string_view job_id) {
  if (!enabled()) {
    return;
  }
  auto& part = shard_of(job_id);
  const std::lock_guard lock(part.mutex);
  const auto found = part.entries.find(std::string(job_id));
  if (found != part.entries.end()) {
    part.entries.erase(found);
  }
}

void job_read_cache::invalidate_all() {
  start_epoch(std::nullopt);
}

void job_read_cache::clear_all() {
  for (auto& part : shards_) {
    const std::lock_guard lock(part.mutex);
    part.entries.clear();
  }
}

void job_read_cache::collect(metrics::exposition& out) const {
  out.begin_family("jobgate_job_cache_lookups_total",
                   "Status reads that looked for a job in the gateway's job read cache, by result.",
                   "counter");
  out.sample("jobgate_job_cache_lookups_total", {{"result", "hit"}}, static_cast<double>(hits()));
  out.sample("jobgate_job_cache_lookups_total", {{"result", "miss"}},
             static_cast<double>(misses()));
  out.begin_family("jobgate_job_cache_entries", "Job records in the gateway's job read cache.",
                   "gauge");
  out.sample("jobgate_job_cache_entries", {}, static_cast<double>(size()));
}

std::size_t job_read_cache::size() const {
  std::size_t total = 0;
  for (const auto& part : shards_) {
    const std::lock_guard lock(part.mutex);
    for (const auto& [id, cached] : part.entries) {
      total += cached.job ? 1 : 0;
    }
  }
  return total;
}

}  // namespace jobgate::gateway
