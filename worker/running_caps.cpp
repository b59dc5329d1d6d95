#include "worker/running_caps.hpp"

#include "common/clock.hpp"
#include "common/jobs/job_codec.hpp"
#include "common/jobs/job_scripts.hpp"
#include "common/jobs/store_keys.hpp"
#include "common/redis/error.hpp"
#include "common/redis/script.hpp"

namespace jobgate::worker {

namespace {

boost::system::error_code unexpected_reply() {
  return redis::make_error_code(redis::errc::protocol_error);
}

// Appends the arguments that admit_job and release_job share after the job id.
void push_cap_arguments(redis::request& command, const std::string& tenant, job_kind kind,
                        std::int64_t default_cap) {
  command.push_back("running-" + std::string(to_string(kind)));
  command.push_back(static_cast<long long>(default_cap));
  command.push_back(static_cast<long long>(now_millis()));
  command.push_back(std::string(to_string(kind)) + ":" + tenant);
  command.push_back(static_cast<long long>(promoted_resend_after.count()));
}

// A failed result<bool>, which cannot be built from an error code implicitly.
boost::system::result<bool> failure(const boost::system::error_code& error) {
  return {boost::system::in_place_error, error};
}

}  // namespace

boost::system::result<admission> admit_job(redis::connection& redis, const std::string& id,
                                           const std::string& tenant, job_kind kind,
                                           std::int64_t default_cap) {
  const std::string kind_name(to_string(kind));
  redis::request command = job_scripts::eval_command(
      job_scripts::admit_job,
      {store_keys::job(id), store_keys::running_jobs(kind_name, tenant),
       store_keys::deferred_jobs(kind_name, tenant), store_keys::tenant_limits(tenant)});
  command.push_back(id);
  push_cap_arguments(command, tenant, kind, default_cap);
  auto reply = redis::run_eval(redis, command);
  if (!reply) {
    return reply.error();
  }
  if (!reply->is_array() || reply->size() == 0) {
    return unexpected_reply();
  }
  admission result;
  std::size_t first_promoted = 1;
  if ((*reply)[0].text() == "deferred") {
    if (reply->size() < 3) {
      return unexpected_reply();
    }
    result.run = false;
    result.position = (*reply)[1].integer();
    result.cap = (*reply)[2].integer();
    first_promoted = 3;
  }
  for (std::size_t i = first_promoted; i < reply->size(); ++i) {
    result.promoted.emplace_back((*reply)[i].text());
  }
  return result;
}

boost::system::result<std::vector<std::string>> release_place(redis::connection& redis,
                                                              const std::string& id,
                                                              const std::string& tenant,
                                                              job_kind kind,
                                                              std::int64_t default_cap) {
  const std::string kind_name(to_string(kind));
  redis::request command = job_scripts::eval_command(
      job_scripts::release_job,
      {store_keys::running_jobs(kind_name, tenant), store_keys::deferred_jobs(kind_name, tenant),
       store_keys::tenant_limits(tenant)});
  command.push_back(id);
  push_cap_arguments(command, tenant, kind, default_cap);
  auto reply = redis::run_eval(redis, command);
  if (!reply) {
    return reply.error();
  }
  if (!reply->is_array()) {
    return unexpected_reply();
  }
  std::vector<std::string> promoted;
  for (const auto member : *reply) {
    promoted.emplace_back(member.text());
  }
  return promoted;
}

boost::system::result<bool> produce_job_message(redis::connection& redis,
                                                kafka::kafka_producer& producer,
                                                const std::string& id,
                                                std::chrono::milliseconds timeout) {
  auto job = redis.command(
      {"HMGET", store_keys::job(id), "status", "kind", "tenant", "message", "traceparent"});
  if (!job) {
    return failure(job.error());
  }
  if (!job->is_array() || job->size() != 5) {
    return failure(unexpected_reply());
  }
  const auto kind = parse_job_kind((*job)[1].text());
  const std::string_view message = (*job)[3].text();
  // A job that started, ended, or is gone has its message in the topic already, or needs none.
  const bool needs_message =
      !(*job)[0].is_nil() && (*job)[0].text() == "PENDING" && kind && !message.empty();
  if (needs_message) {
    const auto headers =
        job_message_headers(std::string((*job)[2].text()), std::string((*job)[4].text()));
    auto sent = producer.produce_sync(topic_for(*kind), id, message, headers, timeout);
    if (!sent) {
      return failure(boost::system::error_code(sent.error()));
    }
  }
  if (auto removed = redis.command({"ZREM", store_keys::unqueued_jobs, id}); !removed) {
    return failure(removed.error());
  }
  return needs_message;
}

}  // namespace jobgate::worker
