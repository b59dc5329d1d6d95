#include "worker/job_sweeper.hpp"

#include <filesystem>

#include "common/blob/blob_keys.hpp"
#include "common/clock.hpp"
#include "common/jobs/job.hpp"
#include "common/jobs/job_codec.hpp"
#include "common/jobs/job_scripts.hpp"
#include "common/jobs/store_keys.hpp"
#include "common/redis/error.hpp"
#include "common/redis/script.hpp"
#include "worker/backoff.hpp"
#include "worker/running_caps.hpp"

namespace jobgate::worker {

namespace {

constexpr std::int64_t entries_per_sweep = 200;
// A claimed entry that its sweeper did not finish with is due again after this.
constexpr auto claim_hold = std::chrono::seconds(30);
constexpr auto produce_timeout = std::chrono::seconds(10);

boost::system::error_code unexpected_reply() {
  return redis::make_error_code(redis::errc::protocol_error);
}

}  // namespace

job_sweeper::job_sweeper(redis::connection connection, kafka::kafka_producer& producer,
                         const tenants::tenant_limits& defaults, blob_store* blobs)
    : redis_(std::move(connection)),
      producer_(producer),
      defaults_(defaults),
      blobs_(blobs),
      logger_(log::logger{}.with("role", "sweeper")) {}

boost::system::result<std::vector<std::string>> job_sweeper::claim_due(
    std::string_view set, std::chrono::milliseconds hold, std::int64_t most) {
  redis::request command = job_scripts::eval_command(job_scripts::claim_due, {set});
  command.push_back(static_cast<long long>(now_millis()));
  command.push_back(static_cast<long long>(hold.count()));
  command.push_back(static_cast<long long>(most));
  auto reply = redis::run_eval(redis_, command);
  if (!reply) {
    return reply.error();
  }
  if (!reply->is_array()) {
    return unexpected_reply();
  }
  std::vector<std::string> members;
  for (const auto member : *reply) {
    members.emplace_back(member.text());
  }
  return members;
}

boost::system::result<std::int64_t> job_sweeper::take_over_lapsed_leases() {
  auto due = claim_due(store_keys::running_leases, claim_hold, entries_per_sweep);
  if (!due) {
    return due.error();
  }
  std::int64_t taken = 0;
  for (const auto& id : *due) {
    redis::request command = job_scripts::eval_command(
        job_scripts::take_over_job,
        {store_keys::job(id), store_keys::running_leases, store_keys::unqueued_jobs});
    command.push_back(static_cast<long long>(now_millis()));
    auto reply = redis::run_eval(redis_, command);
    if (!reply) {
      return reply.error();
    }
    if (!reply->is_array() || reply->size() == 0) {
      return unexpected_reply();
    }
    if ((*reply)[0].text() == "taken") {
      ++taken;
      logger_.warn("job taken over: its lease lapsed",
                   {{"job_id", id}, {"attempt", std::string((*reply)[1].text())}});
    }
  }
  return taken;
}

boost::system::result<std::int64_t> job_sweeper::produce_unqueued() {
  auto due = claim_due(store_keys::unqueued_jobs, claim_hold, entries_per_sweep);
  if (!due) {
    return due.error();
  }
  std::int64_t produced = 0;
  for (const auto& id : *due) {
    auto sent = produce_job_message(redis_, producer_, id, produce_timeout);
    if (!sent) {
      // The claim lapses, so a later sweep tries again.
      logger_.warn("job message not produced", {{"job_id", id}, {"error", sent.error().message()}});
      continue;
    }
    if (*sent) {
      ++produced;
      logger_.info("job message produced again", {{"job_id", id}});
    }
  }
  return produced;
}

boost::system::result<std::int64_t> job_sweeper::promote_deferred() {
  auto counts = redis_.command({"HGETALL", store_keys::deferred_counts});
  if (!counts) {
    return counts.error();
  }
  if (!counts->is_array()) {
    return unexpected_reply();
  }
  std::int64_t promoted = 0;
  for (std::size_t i = 0; i + 1 < counts->size(); i += 2) {
    const std::string_view field = (*counts)[i].text();
    const auto colon = field.find(':');
    const auto kind = parse_job_kind(field.substr(0, colon));
    if (colon == std::string_view::npos || !kind) {
      continue;
    }
    const std::string tenant(field.substr(colon + 1));
    auto ids = release_place(redis_, "", tenant, *kind, defaults_.running_cap(*kind));
    if (!ids) {
      return ids.error();
    }
    for (const auto& id : *ids) {
      ++promoted;
      logger_.info("deferred job promoted", {{"job_id", id}, {"tenant", tenant}});
      // A failure leaves the job unqueued, so produce_unqueued sends it later.
      if (auto sent = produce_job_message(redis_, producer_, id, produce_timeout); !sent) {
        logger_.warn("job message not produced",
                     {{"job_id", id}, {"error", sent.error().message()}});
      }
    }
  }
  return promoted;
}

bool job_sweeper::remove_job_files(const std::string& tenant, const std::string& id,
                                   std::int64_t& removed) {
  if (blobs_ == nullptr) {
    return true;
  }
  bool all_gone = true;
  for (const auto& key : blob_keys::of_job(tenant, id)) {
    const auto path = blobs_->local_path(key);
    std::error_code ignored;
    // Only a store with local files can tell whether the file was there.
    const bool existed = path && std::filesystem::exists(*path, ignored);
    auto outcome = blobs_->remove(key);
    if (!outcome && outcome.error() != boost::system::errc::no_such_file_or_directory) {
      logger_.warn("file of an expired job could not be removed; retrying later",
                   {{"job_id", id}, {"key", key}, {"error", outcome.error().message()}});
      all_gone = false;
    } else if (outcome && existed) {
      ++removed;
    }
  }
  return all_gone;
}

boost::system::result<std::pair<std::int64_t, std::int64_t>> job_sweeper::unindex_expired() {
  auto due = claim_due(store_keys::expiring_jobs, claim_hold, entries_per_sweep);
  if (!due) {
    return due.error();
  }
  std::int64_t removed = 0;
  std::int64_t files_removed = 0;
  for (const auto& entry : *due) {
    const auto slash = entry.rfind('/');
    if (slash == std::string::npos) {
      (void)redis_.command({"ZREM", store_keys::expiring_jobs, entry});
      continue;
    }
    const std::string tenant = entry.substr(0, slash);
    const std::string id = entry.substr(slash + 1);
    auto exists = redis_.command({"EXISTS", store_keys::job(id)});
    if (!exists) {
      return exists.error();
    }
    // Still there: its expiry moved; the claim makes it due again later.
    if (exists->integer() != 0) {
      continue;
    }
    // The entry stays while a file remains, and the claim makes it due again later.
    if (!remove_job_files(tenant, id, files_removed)) {
      continue;
    }
    std::vector<redis::request> commands;
    commands.push_back({"ZREM", store_keys::tenant_jobs(tenant), id});
    commands.push_back({"ZREM", store_keys::expiring_jobs, entry});
    auto replies = redis_.pipeline(commands);
    if (!replies) {
      return replies.error();
    }
    ++removed;
  }
  return std::pair{removed, files_removed};
}

std::int64_t job_sweeper::remove_stale_partials() {
  const auto now = std::chrono::steady_clock::now();
  if (blobs_ == nullptr ||
      (partials_checked_at_ && now - *partials_checked_at_ < partial_file_check_interval)) {
    return 0;
  }
  partials_checked_at_ = now;
  auto removed = blobs_->remove_stale_partials(partial_file_idle);
  if (!removed) {
    logger_.warn("blob store could not be searched for stale partial files",
                 {{"error", removed.error().message()}});
    return 0;
  }
  if (*removed > 0) {
    logger_.info("removed partial files of writes that died with their process",
                 {{"files", *removed}});
  }
  return static_cast<std::int64_t>(*removed);
}

boost::system::result<sweep_counts> job_sweeper::sweep() {
  sweep_counts counts;
  auto taken = take_over_lapsed_leases();
  if (!taken) {
    return taken.error();
  }
  counts.taken_over = *taken;
  auto produced = produce_unqueued();
  if (!produced) {
    return produced.error();
  }
  counts.produced = *produced;
  auto promoted = promote_deferred();
  if (!promoted) {
    return promoted.error();
  }
  counts.promoted = *promoted;
  auto unindexed = unindex_expired();
  if (!unindexed) {
    return unindexed.error();
  }
  counts.unindexed = unindexed->first;
  counts.files_removed = unindexed->second + remove_stale_partials();
  return counts;
}

void job_sweeper::run(std::chrono::milliseconds interval, const std::atomic<bool>& stopping) {
  bool failing = false;
  while (!stopping.load()) {
    auto swept = sweep();
    if (!swept && !failing) {
      logger_.warn("sweep failed; retrying", {{"error", swept.error().message()}});
    }
    failing = !swept;
    sleep_unless_stopping(interval, stopping);
  }
}

}  // namespace jobgate::worker
