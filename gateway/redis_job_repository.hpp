#pragma once

#include "common/redis/async_connection.hpp"
#include "gateway/job_repository.hpp"

namespace jobgate::gateway {

// The job repository on Redis: job hashes, the tenant index and the Lua scripts of the job store.
class redis_job_repository final : public job_repository {
 public:
  explicit redis_job_repository(redis::async_connection& connection) : redis_(connection) {}

  boost::asio::awaitable<boost::system::result<bool>> create(const job_record& job) override;
  boost::asio::awaitable<boost::system::result<std::optional<job_record>>> find(
      const std::string& id) override;
  boost::asio::awaitable<boost::system::result<void>> remove(const job_record& job) override;
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

 private:
  redis::async_connection& redis_;
};

}  // namespace jobgate::gateway
