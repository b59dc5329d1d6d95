#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/log/logger.hpp"
#include "common/redis/async_connection.hpp"
#include "gateway/job_read_cache.hpp"
#include "gateway/job_repository.hpp"

namespace jobgate::gateway {

// The job repository on Redis: job hashes, the tenant index and the Lua scripts of the job store.
class redis_job_repository final : public job_repository {
 public:
  // A job whose message the broker did not acknowledge within unqueued_grace of its creation
  // (the gateway stopped in between) has its message produced by a worker.
  // With a cache, read_status serves reads from it and fills it.
  explicit redis_job_repository(redis::async_connection& connection,
                                std::chrono::milliseconds unqueued_grace = std::chrono::minutes(1),
                                job_read_cache* cache = nullptr)
      : redis_(connection), unqueued_grace_(unqueued_grace), cache_(cache) {}

  boost::asio::awaitable<boost::system::result<bool>> create(const job_record& job) override;
  boost::asio::awaitable<boost::system::result<std::optional<job_record>>> find(
      const std::string& id) override;
  boost::asio::awaitable<boost::system::result<std::shared_ptr<const job_snapshot>>> read_status(
      const std::string& id) override;
  boost::asio::awaitable<boost::system::result<void>> remove(const job_record& job) override;
  // Collects the ids and removes them from the unqueued set with one ZREM per round trip, so under
  // load one command covers many submissions.
  void mark_queued(const job_record& job) override;
  boost::asio::awaitable<boost::system::result<error_page>> errors(const std::string& id,
                                                                   std::int64_t offset,
                                                                   std::int64_t limit) override;
  boost::asio::awaitable<boost::system::result<std::optional<std::string>>> header_cells(
      const std::string& id) override;
  boost::asio::awaitable<boost::system::result<cancel_outcome>> cancel(
      const std::string& id, std::int64_t retention_ms) override;
  boost::asio::awaitable<boost::system::result<job_page>> list(
      const job_list_query& query) override;
  boost::asio::awaitable<boost::system::result<idempotency_claim>> claim_idempotency_key(
      const std::string& tenant, const std::string& key_digest, const std::string& fingerprint,
      std::int64_t claim_ms) override;
  boost::asio::awaitable<boost::system::result<void>> complete_idempotency_key(
      const std::string& tenant, const std::string& key_digest, const std::string& fingerprint,
      const idempotency_claim& response, std::int64_t lifetime_ms) override;
  boost::asio::awaitable<boost::system::result<void>> release_idempotency_key(
      const std::string& tenant, const std::string& key_digest,
      const std::string& fingerprint) override;
  boost::asio::awaitable<boost::system::result<std::optional<record_fields>>> find_record(
      const std::string& tenant, const std::string& object_type, const std::string& key,
      bool by_unique) override;
  boost::asio::awaitable<boost::system::result<std::map<std::string, std::vector<std::string>>>>
  custom_properties(const std::string& tenant,
                    const std::vector<std::string>& object_types) override;
  boost::asio::awaitable<boost::system::result<bool>> create_custom_property(
      const std::string& tenant, const std::string& object_type, const std::string& name,
      const std::string& definition) override;
  boost::asio::awaitable<boost::system::result<std::optional<std::string>>> expired_job_tenant(
      const std::string& id) override;
  boost::asio::awaitable<bool> ping() override;
  boost::asio::awaitable<boost::system::result<std::map<job_kind, job_kind_totals>>> totals()
      override;
  // Reads maxmemory-policy when the last reading is older than policy_check_interval, else sends
  // a PING. Logs the policy error on the first reading and whenever the verdict changes.
  boost::asio::awaitable<boost::system::result<std::string>> check_readiness() override;

  static constexpr std::chrono::seconds policy_check_interval{5};

 private:
  // Turns the reply of HGETALL on the job's key into its record, with the queue position of a
  // deferred job read from the tenant's queue.
  boost::asio::awaitable<boost::system::result<std::optional<job_record>>> read_job(
      const redis::reply& fields);
  // Sets the queue position of each job that waits for its tenant's running-jobs cap, with one
  // ZRANK per such job in a single round trip.
  boost::asio::awaitable<boost::system::error_code> fill_queue_positions(
      std::span<job_record> jobs);
  // Stores a fresh policy verdict and logs it when it differs from the previous one.
  void record_policy_verdict(const std::string& policy, const std::string& problem);

  // Ids waiting for the ZREM of mark_queued. Shared with the command's completion handler, which
  // may run after the repository is gone.
  struct queued_marks {
    std::mutex mutex;
    std::vector<std::string> ids;
    bool sending = false;
    log::logger logger;
  };
  // Sends one ZREM with every waiting id, and again from its completion while ids arrived.
  static void send_queued_marks(redis::async_connection& connection,
                                std::shared_ptr<queued_marks> marks);

  redis::async_connection& redis_;
  std::chrono::milliseconds unqueued_grace_;
  job_read_cache* cache_;
  std::shared_ptr<queued_marks> queued_marks_ = std::make_shared<queued_marks>();
  log::logger logger_;
  // The last policy verdict and when it was read, shared by the gateway's threads.
  std::mutex policy_mutex_;
  std::optional<std::chrono::steady_clock::time_point> policy_checked_at_;
  std::string policy_problem_;
};

}  // namespace jobgate::gateway
