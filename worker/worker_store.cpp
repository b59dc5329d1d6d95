#include "worker/worker_store.hpp"

#include "common/jobs/job_scripts.hpp"
#include "common/jobs/store_keys.hpp"
#include "common/json/json.hpp"
#include "common/redis/error.hpp"
#include "common/redis/script.hpp"

namespace jobgate::worker {

namespace {

boost::system::error_code unexpected_reply() {
  return redis::make_error_code(redis::errc::protocol_error);
}

void append_fields(redis::request& command, const field_list& fields) {
  for (const auto& [name, value] : fields) {
    command.push_back(name);
    command.push_back(value);
  }
}

}  // namespace

redis::connection& worker_store::idle_connection() {
  discard_batches();
  return redis_;
}

boost::system::result<worker_store::change_result> worker_store::run_change(
    const redis::request& command) {
  auto reply = redis::run_eval(idle_connection(), command);
  if (!reply) {
    return reply.error();
  }
  if (!reply->is_array() || reply->size() == 0) {
    return unexpected_reply();
  }
  return read_change(*reply);
}

worker_store::change_result worker_store::read_change(const redis::reply& reply) {
  change_result result;
  const auto verdict_text = reply[0].text();
  if (verdict_text == "ok") {
    result.outcome = verdict::ok;
  } else if (verdict_text == "status") {
    result.outcome = verdict::terminal;
    result.status = parse_job_status(reply[1].text()).value_or(job_status::failed);
  } else if (verdict_text == "fenced") {
    result.outcome = verdict::fenced;
  } else if (verdict_text == "stale") {
    result.outcome = verdict::stale;
  } else {
    result.outcome = verdict::missing;
  }
  return result;
}

boost::system::result<worker_store::start_result> worker_store::start(const std::string& id,
                                                                      std::int64_t lease_ms) {
  redis::request command = job_scripts::eval_command(
      job_scripts::start_job,
      {store_keys::job(id), store_keys::running_leases, store_keys::unqueued_jobs});
  command.push_back(static_cast<long long>(now_millis()));
  command.push_back(static_cast<long long>(lease_ms));
  auto reply = redis::run_eval(idle_connection(), command);
  if (!reply) {
    return reply.error();
  }
  if (!reply->is_array() || reply->size() == 0) {
    return unexpected_reply();
  }

  start_result result;
  const auto verdict_text = (*reply)[0].text();
  if (verdict_text == "missing") {
    result.outcome = verdict::missing;
    return result;
  }
  if (verdict_text == "status") {
    result.outcome = verdict::terminal;
    result.status = parse_job_status((*reply)[1].text()).value_or(job_status::failed);
    result.attempt = reply->size() > 2 ? (*reply)[2].integer() : 0;
    return result;
  }
  if (reply->size() < 10) {
    return unexpected_reply();
  }
  result.attempt = (*reply)[1].integer();
  result.checkpoint.end_offset = static_cast<std::uint64_t>((*reply)[2].integer());
  result.checkpoint.row = static_cast<std::uint64_t>((*reply)[3].integer());
  result.checkpoint.next_line = static_cast<std::uint64_t>((*reply)[4].integer());
  result.counts.created = (*reply)[5].integer();
  result.counts.updated = (*reply)[6].integer();
  result.counts.failed = (*reply)[7].integer();
  result.counts.skipped_blank = (*reply)[8].integer();
  result.counts.rows_processed = (*reply)[9].integer();
  return result;
}

boost::system::result<worker_store::change_result> worker_store::renew_lease(
    const std::string& id, std::int64_t attempt, std::int64_t lease_ms) {
  redis::request command = job_scripts::eval_command(
      job_scripts::renew_lease, {store_keys::job(id), store_keys::running_leases});
  command.push_back(static_cast<long long>(attempt));
  command.push_back(static_cast<long long>(now_millis()));
  command.push_back(static_cast<long long>(lease_ms));
  return run_change(command);
}

boost::system::result<worker_store::change_result> worker_store::update(const std::string& id,
                                                                        std::int64_t attempt,
                                                                        const field_list& fields) {
  redis::request command =
      job_scripts::eval_command(job_scripts::update_job, {store_keys::job(id)});
  command.push_back(static_cast<long long>(attempt));
  command.push_back(static_cast<long long>(now_millis()));
  append_fields(command, fields);
  return run_change(command);
}

redis::request worker_store::batch_command(const batch_target& target,
                                           const std::vector<records::import_row>& rows) {
  redis::request command = job_scripts::eval_command(
      job_scripts::apply_import_batch,
      {store_keys::job(target.job_id), store_keys::job_errors(target.job_id),
       store_keys::unique_index(target.tenant, target.object_type),
       store_keys::record_ids(target.tenant, target.object_type),
       store_keys::record_sequence(target.tenant, target.object_type)});
  command.push_back(static_cast<long long>(target.attempt));
  command.push_back(static_cast<long long>(target.from_offset));
  command.push_back(static_cast<long long>(target.to.end_offset));
  command.push_back(static_cast<long long>(target.to.row));
  command.push_back(static_cast<long long>(target.to.next_line));
  command.push_back(static_cast<long long>(now_millis()));
  command.push_back(store_keys::record_prefix(target.tenant, target.object_type));
  command.push_back(target.unique_property);

  for (const auto& row : rows) {
    switch (row.status) {
      case records::row_status::valid: {
        command.push_back("v");
        command.push_back(row.unique_key);
        // The unique property is written by the script from the normalised key, and an empty
        // value is never sent, so it cannot clear what an earlier row stored.
        const auto is_sent = [&target](const records::import_value& value) {
          return value.property != target.unique_property && !value.value.empty();
        };
        long long count = 0;
        for (const auto& value : row.values) {
          count += is_sent(value) ? 1 : 0;
        }
        command.push_back(count);
        for (const auto& value : row.values) {
          if (is_sent(value)) {
            command.push_back(value.property);
            command.push_back(value.value);
          }
        }
        break;
      }
      case records::row_status::rejected:
        command.push_back("r");
        command.push_back(row.error ? row_error_json(*row.error) : std::string("{}"));
        break;
      case records::row_status::blank:
        command.push_back("b");
        break;
    }
  }
  return command;
}

boost::system::result<worker_store::change_result> worker_store::apply_batch(
    const batch_target& target, const std::vector<records::import_row>& rows) {
  return run_change(batch_command(target, rows));
}

boost::system::result<worker_store::change_result> worker_store::send_batch(
    const batch_target& target, const std::vector<records::import_row>& rows) {
  if (batches_in_flight_.size() >= max_batches_in_flight) {
    auto oldest = receive_batch();
    if (!oldest || oldest->outcome != verdict::ok) {
      return oldest;
    }
  }

  redis::request eval = batch_command(target, rows);
  if (const auto error = redis_.send(redis::evalsha_form(eval))) {
    // The connection dropped, and with it the replies of the batches sent before.
    batches_in_flight_.clear();
    return error;
  }
  batches_in_flight_.push_back(std::move(eval));
  return change_result{};
}

boost::system::result<worker_store::change_result> worker_store::await_batches() {
  while (!batches_in_flight_.empty()) {
    auto next = receive_batch();
    if (!next || next->outcome != verdict::ok) {
      return next;
    }
  }
  return change_result{};
}

// Reads the verdict of the oldest batch in flight. After a verdict that is not ok, the verdicts of
// the later batches are read and dropped. A NOSCRIPT reply means that a restart or SCRIPT
// FLUSH emptied the script cache, so that batch changed nothing. Neither did any later batch,
// because each got NOSCRIPT too or was rejected as stale, since it starts where the unapplied
// batch ends. So the later replies are read and dropped, and the batches are sent again one at a
// time with their source, stopping at the first that is not applied.
boost::system::result<worker_store::change_result> worker_store::receive_batch() {
  auto reply = redis_.receive_reply();
  if (!reply) {
    batches_in_flight_.clear();
    return reply.error();
  }
  if (!redis::is_noscript(*reply)) {
    batches_in_flight_.pop_front();
    if (!reply->is_array() || reply->size() == 0) {
      discard_batches();
      return unexpected_reply();
    }
    const change_result result = read_change(*reply);
    if (result.outcome != verdict::ok) {
      discard_batches();
    }
    return result;
  }

  while (redis_.replies_pending() > 0) {
    if (auto skipped = redis_.receive_reply(); !skipped) {
      batches_in_flight_.clear();
      return skipped.error();
    }
  }
  const std::deque<redis::request> unapplied = std::move(batches_in_flight_);
  batches_in_flight_.clear();
  for (const auto& eval : unapplied) {
    auto applied = run_change(eval);
    if (!applied) {
      return applied.error();
    }
    if (applied->outcome != verdict::ok) {
      return *applied;
    }
  }
  return change_result{};
}

void worker_store::discard_batches() {
  while (redis_.replies_pending() > 0) {
    if (!redis_.receive_reply()) {
      // The connection dropped, and the remaining replies with it.
      break;
    }
  }
  batches_in_flight_.clear();
}

boost::system::result<worker_store::change_result> worker_store::finish(const std::string& id,
                                                                        std::int64_t attempt,
                                                                        job_status status,
                                                                        std::int64_t retention_ms,
                                                                        const field_list& fields) {
  redis::request command = job_scripts::eval_command(
      job_scripts::finish_job,
      {store_keys::job(id), store_keys::job_errors(id), store_keys::job_tombstone(id),
       store_keys::running_leases, store_keys::expiring_jobs});
  command.push_back(static_cast<long long>(attempt));
  command.push_back(to_string(status));
  command.push_back(static_cast<long long>(now_millis()));
  command.push_back(static_cast<long long>(retention_ms));
  append_fields(command, fields);
  return run_change(command);
}

boost::system::result<std::vector<std::string>> worker_store::record_ids(
    const std::string& tenant, const std::string& object_type, std::int64_t start,
    std::int64_t count) {
  redis::request command{"ZRANGE", store_keys::record_ids(tenant, object_type)};
  command.push_back(static_cast<long long>(start));
  command.push_back(static_cast<long long>(start + count - 1));
  auto reply = redis::run_eval(idle_connection(), command);
  if (!reply) {
    return reply.error();
  }
  if (!reply->is_array()) {
    return unexpected_reply();
  }
  std::vector<std::string> ids;
  ids.reserve(reply->size());
  for (const auto element : *reply) {
    ids.emplace_back(element.text());
  }
  return ids;
}

boost::system::result<std::vector<std::vector<std::optional<std::string>>>>
worker_store::record_values(const std::string& tenant, const std::string& object_type,
                            const std::vector<std::string>& ids,
                            const std::vector<std::string>& properties) {
  const std::string prefix = store_keys::record_prefix(tenant, object_type);
  std::vector<redis::request> commands;
  commands.reserve(ids.size());
  for (const auto& id : ids) {
    redis::request command{"HMGET", prefix + id};
    for (const auto& property : properties) {
      command.push_back(property);
    }
    commands.push_back(std::move(command));
  }
  auto replies = idle_connection().pipeline(commands);
  if (!replies) {
    return replies.error();
  }

  std::vector<std::vector<std::optional<std::string>>> rows;
  rows.reserve(replies->size());
  for (const auto& reply : *replies) {
    if (!reply.is_array()) {
      return unexpected_reply();
    }
    auto& row = rows.emplace_back();
    row.reserve(reply.size());
    for (const auto element : reply) {
      if (element.is_nil()) {
        row.emplace_back();
      } else {
        row.emplace_back(std::string(element.text()));
      }
    }
  }
  return rows;
}

std::int64_t worker_store::record_count(const std::string& tenant, const std::string& object_type) {
  redis::request command{"ZCARD", store_keys::record_ids(tenant, object_type)};
  auto reply = redis::run_eval(idle_connection(), command);
  return reply && reply->is_integer() ? reply->integer() : -1;
}

boost::system::result<std::string> worker_store::last_error(const std::string& id) {
  auto reply = idle_connection().command("HGET", store_keys::job(id), "lastError");
  if (!reply) {
    return reply.error();
  }
  return reply->is_string() ? std::string(reply->text()) : std::string();
}

}  // namespace jobgate::worker
