#include "gateway/redis_job_repository.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <span>

#include "common/jobs/job_codec.hpp"
#include "common/jobs/job_scripts.hpp"
#include "common/jobs/store_keys.hpp"
#include "common/jobs/worker_slots.hpp"
#include "common/redis/error.hpp"
#include "common/redis/eviction_policy.hpp"
#include "common/redis/script.hpp"

namespace jobgate::gateway {

namespace asio = boost::asio;

namespace {

// A Redis error reply means the script or command is wrong, which is ours, not a transport fault.
boost::system::error_code server_error() {
  return redis::make_error_code(redis::errc::protocol_error);
}

// Calls visit(kind, name, value) for each field "KIND:NAME" of an HGETALL reply whose kind is known
// and whose value is an integer.
template <typename Visit>
bool visit_kind_fields(const redis::reply& fields, Visit visit) {
  if (!fields.is_array()) {
    return false;
  }
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
    const std::string_view field = fields[i].text();
    const auto separator = field.find(':');
    const auto kind = parse_job_kind(field.substr(0, separator));
    std::int64_t value = 0;
    const std::string_view text = fields[i + 1].text();
    if (kind && separator != std::string_view::npos &&
        std::from_chars(text.data(), text.data() + text.size(), value).ec == std::errc{}) {
      visit(*kind, field.substr(separator + 1), value);
    }
  }
  return true;
}

// Converts the reply of PTTL into the key's remaining life: none when the key does not expire,
// zero when it is gone or the reply is not a number.
std::optional<std::chrono::milliseconds> time_to_live(const redis::reply& pttl) {
  if (!pttl.is_integer()) {
    return std::chrono::milliseconds(0);
  }
  if (pttl.integer() == -1) {
    return std::nullopt;
  }
  // -2: the key is gone.
  return std::chrono::milliseconds(std::max<long long>(pttl.integer(), 0));
}

}  // namespace

asio::awaitable<boost::system::result<bool>> redis_job_repository::create(const job_record& job) {
  const std::string job_key = store_keys::job(job.id);
  const std::string index_key = store_keys::tenant_jobs(job.tenant);
  redis::request command = job_scripts::eval_command(
      job_scripts::create_job, {job_key, index_key, store_keys::unqueued_jobs});
  command.push_back(static_cast<long long>(job.created_at));
  command.push_back(static_cast<long long>(now_millis() + unqueued_grace_.count()));
  for (const auto& [name, value] : to_hash_fields(job)) {
    command.push_back(name);
    command.push_back(value);
  }
  auto reply = co_await redis::async_run_eval(redis_, std::move(command));
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
  auto reply = co_await redis_.async_command("HGETALL", store_keys::job(id));
  if (!reply) {
    co_return reply.error();
  }
  co_return co_await read_job(*reply);
}

asio::awaitable<boost::system::result<std::optional<job_record>>> redis_job_repository::read_job(
    const redis::reply& fields) {
  if (!fields.is_array()) {
    co_return server_error();
  }
  if (fields.size() == 0) {
    co_return std::optional<job_record>{};
  }
  std::vector<std::string_view> flat;
  flat.reserve(fields.size());
  for (const auto element : fields) {
    flat.push_back(element.text());
  }
  job_record job;
  if (!from_hash_fields(flat, job)) {
    co_return std::optional<job_record>{};
  }
  const auto rank_error = co_await fill_queue_positions(std::span<job_record>(&job, 1));
  if (rank_error) {
    co_return rank_error;
  }
  co_return std::optional<job_record>(std::move(job));
}

asio::awaitable<boost::system::error_code> redis_job_repository::fill_queue_positions(
    std::span<job_record> jobs) {
  std::vector<job_record*> deferred;
  std::vector<redis::request> commands;
  for (auto& job : jobs) {
    if (job.status == job_status::pending && job.deferred_cap > 0) {
      deferred.push_back(&job);
      commands.push_back(
          {"ZRANK", store_keys::deferred_jobs(to_string(job.kind), job.tenant), job.id});
    }
  }
  if (commands.empty()) {
    co_return boost::system::error_code{};
  }
  auto ranks = co_await redis_.async_pipeline(std::move(commands));
  if (!ranks) {
    co_return ranks.error();
  }
  for (std::size_t i = 0; i < deferred.size(); ++i) {
    const auto& rank = (*ranks)[i];
    // Without a rank the job was promoted after its hash was read, so it waits for a worker only.
    if (rank.is_integer()) {
      deferred[i]->queue_position = rank.integer() + 1;
    } else {
      deferred[i]->deferred_cap = 0;
    }
  }
  co_return boost::system::error_code{};
}

asio::awaitable<boost::system::result<std::shared_ptr<const job_snapshot>>>
redis_job_repository::read_status(const std::string& id) {
  if (cache_ == nullptr) {
    co_return co_await job_repository::read_status(id);
  }
  if (auto cached = cache_->find(id)) {
    co_return cached;
  }
  const auto ticket = cache_->begin_load(id);
  if (ticket.reservation == 0) {
    co_return co_await job_repository::read_status(id);
  }
  // Redis reports an expired key only when it deletes it, which can be much later, so the entry
  // must not outlive the key's time to live.
  const std::string key = store_keys::job(id);
  std::vector<redis::request> commands;
  commands.push_back({"HGETALL", key});
  commands.push_back({"PTTL", key});
  auto replies = co_await redis_.async_pipeline(std::move(commands));
  if (!replies) {
    co_return replies.error();
  }
  auto job = co_await read_job((*replies)[0]);
  if (!job) {
    co_return job.error();
  }
  if (!*job) {
    co_return std::shared_ptr<const job_snapshot>{};
  }
  co_return cache_->finish_load(id, ticket, std::move(**job), time_to_live((*replies)[1]));
}

asio::awaitable<boost::system::result<void>> redis_job_repository::remove(const job_record& job) {
  const std::string job_key = store_keys::job(job.id);
  const std::string index_key = store_keys::tenant_jobs(job.tenant);
  redis::request command = job_scripts::eval_command(
      job_scripts::delete_job, {job_key, index_key, store_keys::unqueued_jobs});
  auto reply = co_await redis::async_run_eval(redis_, std::move(command));
  if (!reply) {
    co_return reply.error();
  }
  if (reply->is_error()) {
    co_return server_error();
  }
  co_return boost::system::result<void>{};
}

void redis_job_repository::mark_queued(const job_record& job) {
  {
    std::lock_guard lock(queued_marks_->mutex);
    queued_marks_->ids.push_back(job.id);
    if (queued_marks_->sending) {
      return;
    }
    queued_marks_->sending = true;
  }
  send_queued_marks(redis_, queued_marks_);
}

void redis_job_repository::send_queued_marks(redis::async_connection& connection,
                                             std::shared_ptr<queued_marks> marks) {
  redis::request command{"ZREM", store_keys::unqueued_jobs};
  std::size_t count = 0;
  {
    std::lock_guard lock(marks->mutex);
    if (marks->ids.empty()) {
      marks->sending = false;
      return;
    }
    for (auto& id : marks->ids) {
      command.push_back(std::move(id));
    }
    count = marks->ids.size();
    marks->ids.clear();
  }
  // The handler runs on the io threads, which stop before the connection goes away.
  connection.async_command(
      std::move(command),
      [&connection, marks, count](boost::system::error_code error, redis::reply answer) mutable {
        if (error || answer.is_error()) {
          marks->logger.warn(
              "jobs not marked as queued; workers produce their messages again after the "
              "grace period",
              {{"jobs", static_cast<std::int64_t>(count)},
               {"error", error ? error.message() : std::string(answer.text())}});
        }
        send_queued_marks(connection, std::move(marks));
      });
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

asio::awaitable<boost::system::result<std::optional<std::string>>>
redis_job_repository::header_cells(const std::string& id) {
  redis::request command{"HGET", store_keys::job(id), "headerCells"};
  auto reply = co_await redis::async_run_eval(redis_, std::move(command));
  if (!reply) {
    co_return reply.error();
  }
  if (reply->is_error()) {
    co_return server_error();
  }
  if (reply->is_nil()) {
    co_return std::optional<std::string>{};
  }
  co_return std::optional<std::string>(std::string(reply->text()));
}

asio::awaitable<boost::system::result<cancel_outcome>> redis_job_repository::cancel(
    const std::string& id, std::int64_t retention_ms) {
  redis::request command = job_scripts::eval_command(
      job_scripts::cancel_job,
      {store_keys::job(id), store_keys::job_errors(id), store_keys::job_tombstone(id),
       store_keys::running_leases, store_keys::expiring_jobs});
  command.push_back(static_cast<long long>(now_millis()));
  command.push_back(static_cast<long long>(retention_ms));
  auto reply = co_await redis::async_run_eval(redis_, std::move(command));
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
    if (reply->size() > 1) {
      outcome.previous = parse_job_status((*reply)[1].text());
    }
  } else {
    outcome.status = parse_job_status((*reply)[1].text()).value_or(job_status::done);
  }
  co_return outcome;
}

asio::awaitable<boost::system::result<job_page>> redis_job_repository::list(
    const job_list_query& query) {
  // Index entries one call examines at most, so that a sparse filter cannot block Redis for long.
  // A page may then come back short, with a cursor to continue from.
  constexpr long long examine_limit = 2000;

  std::string highest = "+inf";
  if (query.created_before) {
    highest = "(" + std::to_string(*query.created_before);
  }
  std::string after_id;
  if (query.after && (!query.created_before || query.after->created_at < *query.created_before)) {
    highest = std::to_string(query.after->created_at);
    after_id = query.after->id;
  }
  const std::string lowest =
      query.created_from ? std::to_string(*query.created_from) : std::string("-inf");
  std::string statuses;
  for (const auto status : query.statuses) {
    statuses += (statuses.empty() ? "" : ",") + std::string(to_string(status));
  }
  std::string prefix;
  if (query.kind) {
    prefix = query.kind == job_kind::imports ? "imp_" : "exp_";
  }

  redis::request command =
      job_scripts::eval_command(job_scripts::list_jobs, {store_keys::tenant_jobs(query.tenant)});
  command.push_back(highest);
  command.push_back(lowest);
  command.push_back(after_id);
  command.push_back(static_cast<long long>(query.limit));
  command.push_back(prefix);
  command.push_back(statuses);
  command.push_back(examine_limit);
  auto reply = co_await redis::async_run_eval(redis_, std::move(command));
  if (!reply) {
    co_return reply.error();
  }
  if (!reply->is_array() || reply->size() < 2) {
    co_return server_error();
  }
  job_page page;
  for (std::size_t i = 2; i < reply->size(); ++i) {
    std::vector<std::string_view> flat;
    for (const auto element : (*reply)[i]) {
      flat.push_back(element.text());
    }
    job_record job;
    if (from_hash_fields(flat, job) && job.tenant == query.tenant) {
      page.jobs.push_back(std::move(job));
    }
  }
  const auto rank_error = co_await fill_queue_positions(page.jobs);
  if (rank_error) {
    co_return rank_error;
  }
  const auto score = (*reply)[0].text();
  if (!score.empty()) {
    list_cursor next;
    next.created_at = std::stoll(std::string(score));
    next.id = std::string((*reply)[1].text());
    page.next = std::move(next);
  }
  co_return page;
}

asio::awaitable<boost::system::result<idempotency_claim>>
redis_job_repository::claim_idempotency_key(const std::string& tenant,
                                            const std::string& key_digest,
                                            const std::string& fingerprint, std::int64_t claim_ms) {
  redis::request command = job_scripts::eval_command(job_scripts::claim_idempotency_key,
                                                     {store_keys::idempotency(tenant, key_digest)});
  command.push_back(fingerprint);
  command.push_back(static_cast<long long>(claim_ms));
  auto reply = co_await redis::async_run_eval(redis_, std::move(command));
  if (!reply) {
    co_return reply.error();
  }
  if (!reply->is_array() || reply->size() == 0) {
    co_return server_error();
  }
  idempotency_claim claim;
  const auto verdict = (*reply)[0].text();
  if (verdict == "claimed") {
    claim.outcome = idempotency_claim::verdict::claimed;
  } else if (verdict == "mismatch") {
    claim.outcome = idempotency_claim::verdict::mismatch;
  } else if (verdict == "in_flight") {
    claim.outcome = idempotency_claim::verdict::in_flight;
  } else if (verdict == "replay" && reply->size() == 4) {
    claim.outcome = idempotency_claim::verdict::replay;
    claim.status = std::atoi(std::string((*reply)[1].text()).c_str());
    claim.body = std::string((*reply)[2].text());
    claim.location = std::string((*reply)[3].text());
  } else {
    co_return server_error();
  }
  co_return claim;
}

asio::awaitable<boost::system::result<void>> redis_job_repository::complete_idempotency_key(
    const std::string& tenant, const std::string& key_digest, const std::string& fingerprint,
    const idempotency_claim& response, std::int64_t lifetime_ms) {
  redis::request command = job_scripts::eval_command(job_scripts::complete_idempotency_key,
                                                     {store_keys::idempotency(tenant, key_digest)});
  command.push_back(fingerprint);
  command.push_back(static_cast<long long>(response.status));
  command.push_back(response.body);
  command.push_back(response.location);
  command.push_back(static_cast<long long>(lifetime_ms));
  auto reply = co_await redis::async_run_eval(redis_, std::move(command));
  if (!reply) {
    co_return reply.error();
  }
  if (reply->is_error()) {
    co_return server_error();
  }
  co_return boost::system::result<void>{};
}

asio::awaitable<boost::system::result<void>> redis_job_repository::release_idempotency_key(
    const std::string& tenant, const std::string& key_digest, const std::string& fingerprint) {
  redis::request command = job_scripts::eval_command(job_scripts::release_idempotency_key,
                                                     {store_keys::idempotency(tenant, key_digest)});
  command.push_back(fingerprint);
  auto reply = co_await redis::async_run_eval(redis_, std::move(command));
  if (!reply) {
    co_return reply.error();
  }
  if (reply->is_error()) {
    co_return server_error();
  }
  co_return boost::system::result<void>{};
}

asio::awaitable<boost::system::result<std::optional<record_fields>>>
redis_job_repository::find_record(const std::string& tenant, const std::string& object_type,
                                  const std::string& key, bool by_unique) {
  std::string id = key;
  if (by_unique) {
    auto found =
        co_await redis_.async_command("HGET", store_keys::unique_index(tenant, object_type), key);
    if (!found) {
      co_return found.error();
    }
    if (found->is_nil()) {
      co_return std::optional<record_fields>{};
    }
    if (!found->is_string()) {
      co_return server_error();
    }
    id = std::string(found->text());
  }
  auto reply =
      co_await redis_.async_command("HGETALL", store_keys::record_prefix(tenant, object_type) + id);
  if (!reply) {
    co_return reply.error();
  }
  if (!reply->is_array()) {
    co_return server_error();
  }
  if (reply->size() == 0) {
    co_return std::optional<record_fields>{};
  }
  record_fields record;
  record.id = id;
  for (std::size_t i = 0; i + 1 < reply->size(); i += 2) {
    record.fields.emplace_back(std::string((*reply)[i].text()),
                               std::string((*reply)[i + 1].text()));
  }
  co_return std::optional<record_fields>(std::move(record));
}

asio::awaitable<boost::system::result<std::map<std::string, std::vector<std::string>>>>
redis_job_repository::custom_properties(const std::string& tenant,
                                        const std::vector<std::string>& object_types) {
  std::vector<redis::request> commands;
  for (const auto& object_type : object_types) {
    commands.push_back({"HGETALL", store_keys::custom_properties(tenant, object_type)});
  }
  auto replies = co_await redis_.async_pipeline(std::move(commands));
  if (!replies) {
    co_return replies.error();
  }
  std::map<std::string, std::vector<std::string>> definitions;
  for (std::size_t i = 0; i < object_types.size(); ++i) {
    const auto& reply = (*replies)[i];
    if (!reply.is_array()) {
      co_return server_error();
    }
    // HGETALL returns fields in no fixed order, so the definitions are sorted by name and every
    // reader sees the same catalog.
    std::map<std::string, std::string> by_name;
    for (std::size_t j = 0; j + 1 < reply.size(); j += 2) {
      by_name.emplace(std::string(reply[j].text()), std::string(reply[j + 1].text()));
    }
    auto& list = definitions[object_types[i]];
    for (auto& [name, definition] : by_name) {
      list.push_back(std::move(definition));
    }
  }
  co_return definitions;
}

asio::awaitable<boost::system::result<bool>> redis_job_repository::create_custom_property(
    const std::string& tenant, const std::string& object_type, const std::string& name,
    const std::string& definition) {
  auto reply = co_await redis_.async_command(
      "HSETNX", store_keys::custom_properties(tenant, object_type), name, definition);
  if (!reply) {
    co_return boost::system::result<bool>(boost::system::in_place_error, reply.error());
  }
  if (!reply->is_integer()) {
    co_return boost::system::result<bool>(boost::system::in_place_error, server_error());
  }
  co_return reply->integer() == 1;
}

asio::awaitable<boost::system::result<std::optional<std::string>>>
redis_job_repository::expired_job_tenant(const std::string& id) {
  auto reply = co_await redis_.async_command("GET", store_keys::job_tombstone(id));
  if (!reply) {
    co_return reply.error();
  }
  if (reply->is_nil()) {
    co_return std::optional<std::string>{};
  }
  if (!reply->is_string()) {
    co_return server_error();
  }
  co_return std::optional<std::string>(std::string(reply->text()));
}

asio::awaitable<boost::system::result<std::map<job_kind, job_kind_totals>>>
redis_job_repository::totals() {
  auto stats = co_await redis_.async_command("HGETALL", store_keys::job_stats);
  if (!stats) {
    co_return stats.error();
  }
  std::map<job_kind, job_kind_totals> result;
  const bool stats_read = visit_kind_fields(
      *stats, [&result](job_kind kind, std::string_view name, std::int64_t value) {
        auto& totals = result[kind];
        if (name == "PENDING") {
          totals.pending = value;
        } else if (name == "PROCESSING") {
          totals.processing = value;
        } else if (name == "rows") {
          totals.rows_remaining = value;
        }
      });
  auto deferred = co_await redis_.async_command("HGETALL", store_keys::deferred_counts);
  if (!deferred) {
    co_return deferred.error();
  }
  const bool deferred_read = visit_kind_fields(
      *deferred, [&result](job_kind kind, std::string_view tenant, std::int64_t value) {
        if (value > 0) {
          result[kind].deferred[std::string(tenant)] = value;
        }
      });
  static const redis::script read_slots(worker_slots::read_script);
  const std::array<std::string_view, 2> slot_keys{store_keys::worker_slots,
                                                  store_keys::worker_slot_lapses};
  const std::array<std::string_view, 0> no_arguments{};
  auto reports = co_await read_slots.async_run(redis_, std::span<const std::string_view>(slot_keys),
                                               std::span<const std::string_view>(no_arguments));
  if (!reports) {
    co_return reports.error();
  }
  if (!stats_read || !deferred_read || !reports->is_array()) {
    co_return server_error();
  }
  for (const auto& [kind, fleet] : worker_slots::sum_reports(*reports)) {
    result[kind].fleet = fleet;
  }
  co_return result;
}

asio::awaitable<bool> redis_job_repository::ping() {
  redis::request command{"PING"};
  auto reply = co_await redis::async_run_eval(redis_, std::move(command));
  co_return reply && !reply->is_error();
}

asio::awaitable<boost::system::result<std::string>> redis_job_repository::check_readiness() {
  std::optional<std::string> cached_problem;
  {
    std::lock_guard lock(policy_mutex_);
    if (policy_checked_at_ &&
        std::chrono::steady_clock::now() - *policy_checked_at_ < policy_check_interval) {
      cached_problem = policy_problem_;
    }
  }

  // While the last policy reading is recent, a PING alone shows whether Redis is reachable.
  if (cached_problem) {
    auto reply = co_await redis_.async_command("PING");
    if (!reply) {
      co_return reply.error();
    }
    if (reply->is_error()) {
      co_return server_error();
    }
    co_return std::move(*cached_problem);
  }

  auto policy = co_await redis::async_read_eviction_policy(redis_);
  if (!policy) {
    co_return policy.error();
  }
  std::string problem = policy->problem();
  record_policy_verdict(policy->name(), problem);
  co_return problem;
}

void redis_job_repository::record_policy_verdict(const std::string& policy,
                                                 const std::string& problem) {
  bool first = false;
  bool changed = false;
  {
    std::lock_guard lock(policy_mutex_);
    first = !policy_checked_at_;
    changed = first || problem != policy_problem_;
    policy_checked_at_ = std::chrono::steady_clock::now();
    policy_problem_ = problem;
  }

  if (!changed) {
    return;
  }
  const std::string shown = policy.empty() ? std::string("unknown") : policy;
  if (!problem.empty()) {
    logger_.error("Redis may evict jobs, so /readyz returns 503",
                  {{"maxmemory_policy", shown}, {"error", problem}});
  } else if (first) {
    logger_.info("Redis maxmemory-policy checked", {{"maxmemory_policy", shown}});
  } else {
    logger_.info("Redis maxmemory-policy is noeviction again", {{"maxmemory_policy", shown}});
  }
}

}  // namespace jobgate::gateway
