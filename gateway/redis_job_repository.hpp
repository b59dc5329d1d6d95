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
  boost::asio::awaitable<boost::system::result<cancel_outcome>> cancel(
      const std::string& id, std::int64_t retention_ms) override;
  boost::asio::awaitable<bool> ping() override;

 private:
  redis::async_connection& redis_;
};

}  // namespace jobgate::gateway
