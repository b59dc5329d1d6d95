#include "gateway/redis_job_repository.hpp"

#include "common/jobs/job_codec.hpp"
#include "common/jobs/job_scripts.hpp"
#include "common/jobs/store_keys.hpp"
#include "common/redis/error.hpp"

namespace jobgate::gateway {

namespace asio = boost::asio;

namespace {

// A Redis error reply means the script or command is wrong, which is ours, not a transport fault.
boost::system::error_code server_error() {
  return redis::make_error_code(redis::errc::protocol_error);
}

}  // namespace

asio::awaitable<boost::system::result<bool>> redis_job_repository::create(const job_record& job) {
  const std::string job_key = store_keys::job(job.id);
  const std::string index_key = store_keys::tenant_jobs(job.tenant);
  redis::request command = job_scripts::eval_command(job_scripts::create_job, {job_key, index_key});
  command.push_back(static_cast<long long>(job.created_at));
  for (const auto& [name, value] : to_hash_fields(job)) {
    command.push_back(name);
    command.push_back(value);
  }
  auto reply = co_await redis_.async_command(std::move(command));
  if (!reply) {
    co_return boost::system::result<bool>(boost::system::in_place_error, reply.error());
  }
  if (reply->is_error()) {
    co_return boost::system::result<bool>(boost::system::in_place_error, server_error());
  }
  co_return reply->integer() == 1;
}

asio::awaitable<boost::system::result<std::optional<job_record>>> redis_job_repository::find(
    const std::string& id) {
  redis::request command{"HGETALL", store_keys::job(id)};
  auto reply = co_await redis_.async_command(std::move(command));
  if (!reply) {
    co_return reply.error();
  }
  if (!reply->is_array()) {
    co_return server_error();
  }
  if (reply->size() == 0) {
    co_return std::optional<job_record>{};
  }
  std::vector<std::string_view> flat;
  flat.reserve(reply->size());
  for (const auto element : *reply) {
    flat.push_back(element.text());
  }
  job_record job;
  if (!from_hash_fields(flat, job)) {
    co_return std::optional<job_record>{};
  }
  co_return std::optional<job_record>(std::move(job));
}

asio::awaitable<boost::system::result<void>> redis_job_repository::remove(const job_record& job) {
  std::vector<redis::request> commands;
  commands.push_back({"DEL", store_keys::job(job.id)});
  commands.push_back({"ZREM", store_keys::tenant_jobs(job.tenant), job.id});
  auto replies = co_await redis_.async_pipeline(std::move(commands));
  if (!replies) {
    co_return replies.error();
  }
  co_return boost::system::result<void>{};
}

asio::awaitable<boost::system::result<error_page>> redis_job_repository::errors(
    const std::string& id, std::int64_t offset, std::int64_t limit) {
  const std::string key = store_keys::job_errors(id);
  std::vector<redis::request> commands;
  commands.push_back({"LLEN", key});
  redis::request range{"LRANGE", key};
  range.push_back(static_cast<long long>(offset));
  range.push_back(static_cast<long long>(offset + limit - 1));
  commands.push_back(std::move(range));
  auto replies = co_await redis_.async_pipeline(std::move(commands));
  if (!replies) {
    co_return replies.error();
  }
  if ((*replies)[0].is_error() || !(*replies)[1].is_array()) {
    co_return server_error();
  }
  error_page page;
  page.total = (*replies)[0].integer();
  for (const auto entry : (*replies)[1]) {
    page.entries.emplace_back(entry.text());
  }
  co_return page;
}

asio::awaitable<boost::system::result<cancel_outcome>> redis_job_repository::cancel(
    const std::string& id, std::int64_t retention_ms) {
  redis::request command = job_scripts::eval_command(
      job_scripts::cancel_job, {store_keys::job(id), store_keys::job_errors(id)});
  command.push_back(static_cast<long long>(now_millis()));
  command.push_back(static_cast<long long>(retention_ms));
  auto reply = co_await redis_.async_command(std::move(command));
  if (!reply) {
    co_return reply.error();
  }
  if (!reply->is_array() || reply->size() == 0) {
    co_return server_error();
  }
  cancel_outcome outcome;
  const auto verdict = (*reply)[0].text();
  if (verdict == "ok") {
    outcome.canceled = true;
    outcome.status = job_status::canceled;
  } else {
    outcome.status = parse_job_status((*reply)[1].text()).value_or(job_status::done);
  }
  co_return outcome;
}

asio::awaitable<bool> redis_job_repository::ping() {
  redis::request command{"PING"};
  auto reply = co_await redis_.async_command(std::move(command));
  co_return reply && !reply->is_error();
}

}  // namespace jobgate::gateway
