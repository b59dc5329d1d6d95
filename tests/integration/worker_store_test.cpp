#include "worker/worker_store.hpp"

#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/blob/blob_keys.hpp"
#include "common/blob/blob_store.hpp"
#include "common/jobs/job_codec.hpp"
#include "common/jobs/job_scripts.hpp"
#include "common/jobs/store_keys.hpp"
#include "common/kafka/kafka_producer.hpp"
#include "common/records/import_row_processor.hpp"
#include "common/records/property_catalog.hpp"
#include "redis_test_server.hpp"
#include "test_brokers.hpp"
#include "worker/import_job.hpp"
#include "worker/job_sweeper.hpp"

// The worker's side of the job store against a real Redis: every state change runs one of the Lua
// scripts in common/jobs/job_scripts.cpp. Tenants are unique per test, so runs can share a server.

namespace {

namespace redis = jobgate::redis;
namespace records = jobgate::records;
namespace store_keys = jobgate::store_keys;
using jobgate::job_kind;
using jobgate::job_record;
using jobgate::job_status;
using jobgate::worker::worker_store;
using verdict = worker_store::verdict;

constexpr std::int64_t retention_ms = 3600 * 1000;
constexpr std::int64_t lease_ms = 60 * 1000;
constexpr std::int64_t unqueued_grace_ms = 60 * 1000;

redis::connection connect() {
  return jobgate::test::connect_shared_redis();
}

std::string unique_tenant(std::string_view test) {
  return jobgate::test::unique_name("test-" + std::string(test));
}

job_record make_job(const std::string& tenant, job_kind kind = job_kind::imports) {
  job_record job;
  job.id = jobgate::job_id::generate(kind).str();
  job.tenant = tenant;
  job.kind = kind;
  job.status = job_status::pending;
  job.object_type = "contacts";
  job.created_at = job.updated_at = jobgate::now_millis();
  job.request_json = R"({"objectType":"contacts"})";
  return job;
}

// Stores a new job the way the gateway does, through the create script.
void create_job(redis::connection& connection, const job_record& job) {
  redis::request command = jobgate::job_scripts::eval_command(
      jobgate::job_scripts::create_job,
      {store_keys::job(job.id), store_keys::tenant_jobs(job.tenant), store_keys::unqueued_jobs});
  command.push_back(static_cast<long long>(job.created_at));
  command.push_back(static_cast<long long>(job.created_at + unqueued_grace_ms));
  for (const auto& [name, value] : jobgate::to_hash_fields(job)) {
    command.push_back(name);
    command.push_back(value);
  }
  auto reply = connection.command(command);
  REQUIRE(reply.has_value());
  REQUIRE(reply->integer() == 1);
}

// Runs the cancel script as the gateway does.
std::string cancel_job(redis::connection& connection, const std::string& id) {
  redis::request command = jobgate::job_scripts::eval_command(
      jobgate::job_scripts::cancel_job,
      {store_keys::job(id), store_keys::job_errors(id), store_keys::job_tombstone(id),
       store_keys::running_leases, store_keys::expiring_jobs});
  command.push_back(static_cast<long long>(jobgate::now_millis()));
  command.push_back(static_cast<long long>(retention_ms));
  auto reply = connection.command(command);
  REQUIRE(reply.has_value());
  REQUIRE(reply->is_array());
  return std::string(reply->size() > 1 ? (*reply)[1].text() : (*reply)[0].text());
}

std::map<std::string, std::string> hash_of(redis::connection& connection, const std::string& key) {
  auto reply = connection.command("HGETALL", key);
  REQUIRE(reply.has_value());
  REQUIRE(reply->is_array());
  std::map<std::string, std::string> fields;
  for (std::size_t i = 0; i + 1 < reply->size(); i += 2) {
    fields[std::string((*reply)[i].text())] = std::string((*reply)[i + 1].text());
  }
  return fields;
}

std::string job_field(redis::connection& connection, const std::string& id,
                      const std::string& field) {
  auto reply = connection.command("HGET", store_keys::job(id), field);
  REQUIRE(reply.has_value());
  return std::string(reply->text());
}

long long pttl(redis::connection& connection, const std::string& key) {
  auto reply = connection.command("PTTL", key);
  REQUIRE(reply.has_value());
  return reply->integer();
}

records::import_row valid_row(std::uint64_t row, std::string key,
                              std::vector<records::import_value> values) {
  records::import_row result;
  result.row = row;
  result.line = row;
  result.end_offset = row * 100;
  result.next_line = row + 1;
  result.status = records::row_status::valid;
  result.unique_key = std::move(key);
  result.values = std::move(values);
  return result;
}

records::import_row rejected_row(std::uint64_t row, std::string value) {
  records::import_row result;
  result.row = row;
  result.line = row;
  result.end_offset = row * 100;
  result.next_line = row + 1;
  result.status = records::row_status::rejected;
  records::row_error error;
  error.row = row;
  error.line = row;
  error.kind = records::row_error_kind::invalid_email;
  error.column = "Email";
  error.property = "email";
  error.value = std::move(value);
  error.detail = "The value is not an email address.";
  result.error = std::move(error);
  return result;
}

records::import_row blank_row(std::uint64_t row) {
  records::import_row result;
  result.row = row;
  result.line = row;
  result.end_offset = row * 100;
  result.next_line = row + 1;
  result.status = records::row_status::blank;
  return result;
}

worker_store::batch_target target_for(const job_record& job, std::int64_t attempt,
                                      std::uint64_t from_offset,
                                      const std::vector<records::import_row>& rows) {
  worker_store::batch_target target;
  target.job_id = job.id;
  target.attempt = attempt;
  target.tenant = job.tenant;
  target.object_type = "contacts";
  target.unique_property = "email";
  target.from_offset = from_offset;
  target.to = rows.back().checkpoint();
  return target;
}

// Applies rows as a batch from from_offset to the last row's checkpoint and returns the verdict.
verdict apply(worker_store& store, const job_record& job, std::int64_t attempt,
              std::uint64_t from_offset, const std::vector<records::import_row>& rows) {
  auto applied = store.apply_batch(target_for(job, attempt, from_offset, rows), rows);
  REQUIRE(applied.has_value());
  return applied->outcome;
}

// The stored record of a contact by its unique key, empty when there is none.
std::map<std::string, std::string> contact(redis::connection& connection, const std::string& tenant,
                                           const std::string& email) {
  auto id = connection.command("HGET", store_keys::unique_index(tenant, "contacts"), email);
  REQUIRE(id.has_value());
  if (id->is_nil()) {
    return {};
  }
  return hash_of(connection,
                 store_keys::record_prefix(tenant, "contacts") + std::string(id->text()));
}

}  // namespace

TEST_CASE("worker store start increments attempts", "[redis][worker_store]") {
  auto inspect = connect();
  worker_store store(connect());
  const job_record job = make_job(unique_tenant("start"));
  create_job(inspect, job);

  const auto before = jobgate::now_millis();
  auto first = store.start(job.id, lease_ms);
  REQUIRE(first.has_value());
  CHECK(first->outcome == verdict::ok);
  CHECK(first->attempt == 1);
  CHECK(first->checkpoint.end_offset == 0);
  CHECK(first->checkpoint.row == 0);
  CHECK(first->counts.created == 0);
  CHECK(job_field(inspect, job.id, "status") == "PROCESSING");
  CHECK(job_field(inspect, job.id, "attempts") == "1");
  const auto started_at = std::stoll(job_field(inspect, job.id, "startedAt"));
  CHECK(started_at >= before);

  // A redelivery starts a second attempt but keeps the first start time.
  auto second = store.start(job.id, lease_ms);
  REQUIRE(second.has_value());
  CHECK(second->outcome == verdict::ok);
  CHECK(second->attempt == 2);
  CHECK(job_field(inspect, job.id, "attempts") == "2");
  CHECK(std::stoll(job_field(inspect, job.id, "startedAt")) == started_at);
}

TEST_CASE("worker store start returns checkpoint", "[redis][worker_store]") {
  auto inspect = connect();
  worker_store store(connect());
  const job_record job = make_job(unique_tenant("checkpoint"));
  create_job(inspect, job);

  auto first = store.start(job.id, lease_ms);
  REQUIRE(first.has_value());
  const std::vector<records::import_row> rows = {
      valid_row(2, "ann@x.test", {{"email", "ann@x.test"}, {"firstname", "Ann"}}),
      valid_row(3, "bob@x.test", {{"email", "bob@x.test"}}), valid_row(4, "ann@x.test", {}),
      rejected_row(5, "not-an-email"), blank_row(6)};
  auto applied = store.apply_batch(target_for(job, 1, 0, rows), rows);
  REQUIRE(applied.has_value());
  REQUIRE(applied->outcome == verdict::ok);

  auto second = store.start(job.id, lease_ms);
  REQUIRE(second.has_value());
  REQUIRE(second->outcome == verdict::ok);
  CHECK(second->attempt == 2);
  CHECK(second->checkpoint.end_offset == 600);
  CHECK(second->checkpoint.row == 6);
  CHECK(second->checkpoint.next_line == 7);
  CHECK(second->counts.created == 2);
  CHECK(second->counts.updated == 1);
  CHECK(second->counts.failed == 1);
  CHECK(second->counts.skipped_blank == 1);
  CHECK(second->counts.rows_processed == 5);
}

TEST_CASE("worker store start of missing job", "[redis][worker_store]") {
  worker_store store(connect());
  auto started = store.start(jobgate::job_id::generate(job_kind::imports).str(), lease_ms);
  REQUIRE(started.has_value());
  CHECK(started->outcome == verdict::missing);
}

TEST_CASE("worker store terminal job cannot move", "[redis][worker_store]") {
  auto inspect = connect();
  worker_store store(connect());
  const std::string tenant = unique_tenant("terminal");
  const job_record job = make_job(tenant);
  create_job(inspect, job);
  auto started = store.start(job.id, lease_ms);
  REQUIRE(started.has_value());

  auto finished = store.finish(job.id, 1, job_status::done, retention_ms, {{"rowsTotal", "0"}});
  REQUIRE(finished.has_value());
  REQUIRE(finished->outcome == verdict::ok);
  const auto done_fields = hash_of(inspect, store_keys::job(job.id));
  CHECK(done_fields.at("status") == "DONE");

  // A late finish, batch, update, restart or cancel changes nothing.
  auto again = store.finish(job.id, 1, job_status::failed, retention_ms,
                            {{"errorType", "late"}, {"errorDetail", "late"}});
  REQUIRE(again.has_value());
  CHECK(again->outcome == verdict::terminal);
  CHECK(again->status == job_status::done);

  const std::vector<records::import_row> rows = {
      valid_row(2, "late@x.test", {{"email", "late@x.test"}})};
  auto batch = store.apply_batch(target_for(job, 1, 0, rows), rows);
  REQUIRE(batch.has_value());
  CHECK(batch->outcome == verdict::terminal);
  CHECK(batch->status == job_status::done);
  CHECK(contact(inspect, tenant, "late@x.test").empty());

  auto update = store.update(job.id, 1, {{"rowsTotal", "99"}});
  REQUIRE(update.has_value());
  CHECK(update->outcome == verdict::terminal);

  auto restart = store.start(job.id, lease_ms);
  REQUIRE(restart.has_value());
  CHECK(restart->outcome == verdict::terminal);
  CHECK(restart->status == job_status::done);

  CHECK(cancel_job(inspect, job.id) == "DONE");
  CHECK(hash_of(inspect, store_keys::job(job.id)) == done_fields);
}

TEST_CASE("worker store canceled job stays canceled", "[redis][worker_store]") {
  auto inspect = connect();
  worker_store store(connect());
  const std::string tenant = unique_tenant("canceled");
  const job_record job = make_job(tenant);
  create_job(inspect, job);
  auto started = store.start(job.id, lease_ms);
  REQUIRE(started.has_value());

  CHECK(cancel_job(inspect, job.id) == "PROCESSING");
  const auto canceled_fields = hash_of(inspect, store_keys::job(job.id));
  CHECK(canceled_fields.at("status") == "CANCELED");

  const std::vector<records::import_row> rows = {
      valid_row(2, "late@x.test", {{"email", "late@x.test"}}), rejected_row(3, "x")};
  auto batch = store.apply_batch(target_for(job, 1, 0, rows), rows);
  REQUIRE(batch.has_value());
  CHECK(batch->outcome == verdict::terminal);
  CHECK(batch->status == job_status::canceled);
  CHECK(contact(inspect, tenant, "late@x.test").empty());
  auto errors = inspect.command("LLEN", store_keys::job_errors(job.id));
  REQUIRE(errors.has_value());
  CHECK(errors->integer() == 0);

  for (const auto status : {job_status::done, job_status::failed}) {
    auto finished = store.finish(job.id, 1, status, retention_ms, {});
    REQUIRE(finished.has_value());
    CHECK(finished->outcome == verdict::terminal);
    CHECK(finished->status == job_status::canceled);
  }
  auto restart = store.start(job.id, lease_ms);
  REQUIRE(restart.has_value());
  CHECK(restart->outcome == verdict::terminal);
  CHECK(restart->status == job_status::canceled);
  CHECK(cancel_job(inspect, job.id) == "CANCELED");
  CHECK(hash_of(inspect, store_keys::job(job.id)) == canceled_fields);
}

TEST_CASE("worker store cancel of pending job", "[redis][worker_store]") {
  auto inspect = connect();
  worker_store store(connect());
  const job_record job = make_job(unique_tenant("cancel-pending"));
  create_job(inspect, job);

  const auto before = jobgate::now_millis();
  CHECK(cancel_job(inspect, job.id) == "PENDING");
  const auto fields = hash_of(inspect, store_keys::job(job.id));
  CHECK(fields.at("status") == "CANCELED");
  const auto finished_at = std::stoll(fields.at("finishedAt"));
  CHECK(finished_at >= before);
  CHECK(std::stoll(fields.at("expiresAt")) == finished_at + retention_ms);
  const auto ttl = pttl(inspect, store_keys::job(job.id));
  CHECK(ttl > 0);
  CHECK(ttl <= retention_ms);

  auto started = store.start(job.id, lease_ms);
  REQUIRE(started.has_value());
  CHECK(started->outcome == verdict::terminal);
  CHECK(started->status == job_status::canceled);
}

TEST_CASE("worker store fences older attempts", "[redis][worker_store]") {
  auto inspect = connect();
  worker_store store(connect());
  const std::string tenant = unique_tenant("fencing");
  const job_record job = make_job(tenant);
  create_job(inspect, job);
  REQUIRE(store.start(job.id, lease_ms).has_value());
  auto second = store.start(job.id, lease_ms);
  REQUIRE(second.has_value());
  REQUIRE(second->attempt == 2);

  const std::vector<records::import_row> rows = {
      valid_row(2, "old@x.test", {{"email", "old@x.test"}})};
  auto batch = store.apply_batch(target_for(job, 1, 0, rows), rows);
  REQUIRE(batch.has_value());
  CHECK(batch->outcome == verdict::fenced);
  CHECK(contact(inspect, tenant, "old@x.test").empty());
  CHECK(job_field(inspect, job.id, "ckOffset") == "0");

  auto update = store.update(job.id, 1, {{"rowsTotal", "10"}});
  REQUIRE(update.has_value());
  CHECK(update->outcome == verdict::fenced);
  CHECK(job_field(inspect, job.id, "rowsTotal") == "-1");

  auto finish = store.finish(job.id, 1, job_status::done, retention_ms, {});
  REQUIRE(finish.has_value());
  CHECK(finish->outcome == verdict::fenced);
  CHECK(job_field(inspect, job.id, "status") == "PROCESSING");
  CHECK(pttl(inspect, store_keys::job(job.id)) == -1);

  // The current attempt is accepted.
  auto current = store.apply_batch(target_for(job, 2, 0, rows), rows);
  REQUIRE(current.has_value());
  CHECK(current->outcome == verdict::ok);
  CHECK_FALSE(contact(inspect, tenant, "old@x.test").empty());
}

TEST_CASE("worker store rejects stale checkpoint", "[redis][worker_store]") {
  auto inspect = connect();
  worker_store store(connect());
  const std::string tenant = unique_tenant("stale");
  const job_record job = make_job(tenant);
  create_job(inspect, job);
  REQUIRE(store.start(job.id, lease_ms).has_value());

  const std::vector<records::import_row> first = {
      valid_row(2, "a@x.test", {{"email", "a@x.test"}}),
      valid_row(3, "b@x.test", {{"email", "b@x.test"}})};
  auto applied = store.apply_batch(target_for(job, 1, 0, first), first);
  REQUIRE(applied.has_value());
  REQUIRE(applied->outcome == verdict::ok);
  CHECK(job_field(inspect, job.id, "ckOffset") == "300");

  // Applying the same batch again, as a worker that missed the reply would, is rejected.
  auto repeated = store.apply_batch(target_for(job, 1, 0, first), first);
  REQUIRE(repeated.has_value());
  CHECK(repeated->outcome == verdict::stale);
  CHECK(job_field(inspect, job.id, "created") == "2");
  CHECK(job_field(inspect, job.id, "rowsProcessed") == "2");

  const std::vector<records::import_row> gap = {valid_row(9, "c@x.test", {{"email", "c@x.test"}})};
  auto skipped = store.apply_batch(target_for(job, 1, 500, gap), gap);
  REQUIRE(skipped.has_value());
  CHECK(skipped->outcome == verdict::stale);
  CHECK(contact(inspect, tenant, "c@x.test").empty());

  auto next = store.apply_batch(target_for(job, 1, 300, gap), gap);
  REQUIRE(next.has_value());
  CHECK(next->outcome == verdict::ok);
  CHECK(job_field(inspect, job.id, "ckOffset") == "900");
  CHECK(job_field(inspect, job.id, "ckRow") == "9");
  CHECK(job_field(inspect, job.id, "ckLine") == "10");
}

TEST_CASE("worker store batch upserts by unique key", "[redis][worker_store]") {
  auto inspect = connect();
  worker_store store(connect());
  const std::string tenant = unique_tenant("upsert");
  const job_record job = make_job(tenant);
  create_job(inspect, job);
  REQUIRE(store.start(job.id, lease_ms).has_value());

  const std::vector<records::import_row> rows = {
      valid_row(2, "ann@x.test", {{"email", "Ann@X.test"}, {"firstname", "Ann"}, {"city", "Lima"}}),
      valid_row(3, "bob@x.test", {{"email", "bob@x.test"}, {"firstname", "Bob"}}),
      valid_row(4, "ann@x.test", {{"email", "ann@x.test"}, {"lastname", "Lee"}}),
  };
  auto applied = store.apply_batch(target_for(job, 1, 0, rows), rows);
  REQUIRE(applied.has_value());
  REQUIRE(applied->outcome == verdict::ok);

  const auto ann = contact(inspect, tenant, "ann@x.test");
  REQUIRE_FALSE(ann.empty());
  // The unique property is stored in its normalised form, from the row's key.
  CHECK(ann.at("email") == "ann@x.test");
  CHECK(ann.at("firstname") == "Ann");
  CHECK(ann.at("lastname") == "Lee");
  CHECK(ann.at("city") == "Lima");
  CHECK(ann.at("id") == "1");
  CHECK_FALSE(ann.at("createdAt").empty());
  CHECK(contact(inspect, tenant, "bob@x.test").at("id") == "2");
  CHECK(job_field(inspect, job.id, "created") == "2");
  CHECK(job_field(inspect, job.id, "updated") == "1");

  const std::vector<records::import_row> later = {
      valid_row(5, "bob@x.test", {{"email", "bob@x.test"}, {"firstname", "Robert"}})};
  auto updated = store.apply_batch(target_for(job, 1, 400, later), later);
  REQUIRE(updated.has_value());
  REQUIRE(updated->outcome == verdict::ok);
  CHECK(contact(inspect, tenant, "bob@x.test").at("firstname") == "Robert");
  CHECK(job_field(inspect, job.id, "created") == "2");
  CHECK(job_field(inspect, job.id, "updated") == "2");
  CHECK(store.record_count(tenant, "contacts") == 2);
}

TEST_CASE("worker store empty value keeps stored value", "[redis][worker_store]") {
  auto inspect = connect();
  worker_store store(connect());
  const std::string tenant = unique_tenant("empty-value");
  const job_record job = make_job(tenant);
  create_job(inspect, job);
  REQUIRE(store.start(job.id, lease_ms).has_value());

  const std::vector<records::import_row> first = {
      valid_row(2, "ann@x.test", {{"email", "ann@x.test"}, {"firstname", "Ann"}})};
  REQUIRE(store.apply_batch(target_for(job, 1, 0, first), first).has_value());

  const std::vector<records::import_row> second = {
      valid_row(3, "ann@x.test", {{"email", "ann@x.test"}, {"firstname", ""}, {"city", "Quito"}})};
  auto applied = store.apply_batch(target_for(job, 1, 200, second), second);
  REQUIRE(applied.has_value());
  REQUIRE(applied->outcome == verdict::ok);
  const auto ann = contact(inspect, tenant, "ann@x.test");
  CHECK(ann.at("firstname") == "Ann");
  CHECK(ann.at("city") == "Quito");
}

TEST_CASE("worker store batch from CSV rows", "[redis][worker_store]") {
  auto inspect = connect();
  worker_store store(connect());
  const std::string tenant = unique_tenant("csv");
  const job_record job = make_job(tenant);
  create_job(inspect, job);
  REQUIRE(store.start(job.id, lease_ms).has_value());

  auto request = records::import_request::parse(R"({"objectType":"contacts"})");
  REQUIRE(request.has_value());
  auto processor =
      records::import_row_processor::create(records::property_catalog::builtin(), *request);
  REQUIRE(processor.has_value());
  const std::string csv =
      "Email,First Name,City\r\n"
      "Ann@X.test,Ann,Lima\r\n"
      "not an email,Bob,Quito\r\n"
      ",,\r\n"
      "ann@x.test,,Cusco\r\n";
  std::vector<records::import_row> rows;
  REQUIRE(processor->feed(csv, rows).has_value());
  REQUIRE(processor->finish(rows).has_value());
  REQUIRE(rows.size() == 4);

  auto applied = store.apply_batch(target_for(job, 1, 0, rows), rows);
  REQUIRE(applied.has_value());
  REQUIRE(applied->outcome == verdict::ok);

  const auto ann = contact(inspect, tenant, "ann@x.test");
  REQUIRE_FALSE(ann.empty());
  CHECK(ann.at("firstname") == "Ann");
  CHECK(ann.at("city") == "Cusco");
  const auto fields = hash_of(inspect, store_keys::job(job.id));
  CHECK(fields.at("created") == "1");
  CHECK(fields.at("updated") == "1");
  CHECK(fields.at("failed") == "1");
  CHECK(fields.at("skippedBlank") == "1");
  CHECK(fields.at("rowsProcessed") == "4");
  CHECK(fields.at("ckOffset") == std::to_string(csv.size()));
  CHECK(fields.at("ckRow") == "5");

  auto errors = inspect.command("LRANGE", store_keys::job_errors(job.id), "0", "-1");
  REQUIRE(errors.has_value());
  REQUIRE(errors->size() == 1);
  auto error = jobgate::json::parse((*errors)[0].text());
  REQUIRE(error.has_value());
  CHECK(jobgate::json::get_int(*error, "row") == 3);
  CHECK(jobgate::json::get_string(*error, "kind") == "invalid_email");
  CHECK(jobgate::json::get_string(*error, "value") == "not an email");
}

TEST_CASE("worker store keeps errors in order", "[redis][worker_store]") {
  auto inspect = connect();
  worker_store store(connect());
  const job_record job = make_job(unique_tenant("errors"));
  create_job(inspect, job);
  REQUIRE(store.start(job.id, lease_ms).has_value());

  const std::vector<records::import_row> first = {rejected_row(2, "one"), rejected_row(3, "two")};
  REQUIRE(apply(store, job, 1, 0, first) == verdict::ok);
  const std::vector<records::import_row> second = {rejected_row(4, "three")};
  REQUIRE(apply(store, job, 1, 300, second) == verdict::ok);

  auto errors = inspect.command("LRANGE", store_keys::job_errors(job.id), "0", "-1");
  REQUIRE(errors.has_value());
  REQUIRE(errors->size() == 3);
  CHECK((*errors)[0].text() == jobgate::worker::row_error_json(*rejected_row(2, "one").error));
  CHECK((*errors)[2].text() == jobgate::worker::row_error_json(*rejected_row(4, "three").error));
  CHECK(job_field(inspect, job.id, "failed") == "3");
}

namespace {

// Five batches that each create two contacts, update contact c2 and reject one row, so the final
// value of c2 depends on the order in which the batches are applied.
std::vector<std::vector<records::import_row>> ordered_batches() {
  std::vector<std::vector<records::import_row>> batches;
  std::uint64_t row = 2;
  for (int batch = 0; batch < 5; ++batch) {
    std::vector<records::import_row> rows;
    for (int n = 0; n < 2; ++n, ++row) {
      const std::string email = "c" + std::to_string(row) + "@x.test";
      rows.push_back(valid_row(row, email, {{"email", email}, {"firstname", "New"}}));
    }
    rows.push_back(valid_row(row, "c2@x.test",
                             {{"email", "c2@x.test"}, {"firstname", "v" + std::to_string(batch)}}));
    ++row;
    rows.push_back(rejected_row(row++, "bad" + std::to_string(batch)));
    batches.push_back(std::move(rows));
  }
  return batches;
}

// Sends each batch with send_batch(), chained from offset 0, and returns the first verdict that is
// not ok, or ok.
verdict send_all(worker_store& store, const job_record& job, std::int64_t attempt,
                 const std::vector<std::vector<records::import_row>>& batches) {
  std::uint64_t from_offset = 0;
  for (const auto& rows : batches) {
    auto sent = store.send_batch(target_for(job, attempt, from_offset, rows), rows);
    REQUIRE(sent.has_value());
    CHECK(store.batches_in_flight() <= worker_store::max_batches_in_flight);
    if (sent->outcome != verdict::ok) {
      return sent->outcome;
    }
    from_offset = rows.back().end_offset;
  }
  auto awaited = store.await_batches();
  REQUIRE(awaited.has_value());
  return awaited->outcome;
}

}  // namespace

TEST_CASE("worker store pipelined batches match sequential", "[redis][worker_store][pipeline]") {
  auto inspect = connect();
  worker_store sequential(connect());
  worker_store pipelined(connect());
  const job_record sequential_job = make_job(unique_tenant("sequential"));
  const job_record pipelined_job = make_job(unique_tenant("pipelined"));
  create_job(inspect, sequential_job);
  create_job(inspect, pipelined_job);
  REQUIRE(sequential.start(sequential_job.id, lease_ms).has_value());
  REQUIRE(pipelined.start(pipelined_job.id, lease_ms).has_value());
  const auto batches = ordered_batches();

  std::uint64_t from_offset = 0;
  for (const auto& rows : batches) {
    REQUIRE(apply(sequential, sequential_job, 1, from_offset, rows) == verdict::ok);
    from_offset = rows.back().end_offset;
  }
  REQUIRE(send_all(pipelined, pipelined_job, 1, batches) == verdict::ok);
  CHECK(pipelined.batches_in_flight() == 0);

  const auto expected = hash_of(inspect, store_keys::job(sequential_job.id));
  const auto actual = hash_of(inspect, store_keys::job(pipelined_job.id));
  for (const char* field :
       {"created", "updated", "failed", "rowsProcessed", "ckOffset", "ckRow", "ckLine"}) {
    INFO("field " << field);
    CHECK(actual.at(field) == expected.at(field));
  }
  CHECK(actual.at("created") == "10");
  CHECK(actual.at("updated") == "5");
  CHECK(actual.at("failed") == "5");
  CHECK(contact(inspect, pipelined_job.tenant, "c2@x.test").at("firstname") == "v4");
  for (const auto& rows : batches) {
    for (const auto& row : rows) {
      if (row.status != records::row_status::valid) {
        continue;
      }
      auto stored = contact(inspect, pipelined_job.tenant, row.unique_key);
      auto reference = contact(inspect, sequential_job.tenant, row.unique_key);
      REQUIRE_FALSE(stored.empty());
      CHECK(stored.at("id") == reference.at("id"));
      CHECK(stored.at("firstname") == reference.at("firstname"));
    }
  }
  auto errors = inspect.command("LRANGE", store_keys::job_errors(pipelined_job.id), "0", "-1");
  REQUIRE(errors.has_value());
  REQUIRE(errors->size() == 5);
  CHECK((*errors)[4].text() == jobgate::worker::row_error_json(*batches[4].back().error));
}

TEST_CASE("worker store pipelined batches stop on cancel", "[redis][worker_store][pipeline]") {
  auto inspect = connect();
  worker_store store(connect());
  const std::string tenant = unique_tenant("pipeline-cancel");
  const job_record job = make_job(tenant);
  create_job(inspect, job);
  REQUIRE(store.start(job.id, lease_ms).has_value());
  const auto batches = ordered_batches();

  auto first = store.send_batch(target_for(job, 1, 0, batches[0]), batches[0]);
  REQUIRE(first.has_value());
  REQUIRE(store.await_batches().has_value());
  const std::uint64_t checkpoint = batches[0].back().end_offset;
  CHECK(cancel_job(inspect, job.id) == "PROCESSING");

  // Two batches go out without a verdict read. The third send reads the oldest verdict.
  auto second = store.send_batch(target_for(job, 1, checkpoint, batches[1]), batches[1]);
  REQUIRE(second.has_value());
  CHECK(second->outcome == verdict::ok);
  auto third =
      store.send_batch(target_for(job, 1, batches[1].back().end_offset, batches[2]), batches[2]);
  REQUIRE(third.has_value());
  CHECK(third->outcome == verdict::ok);
  CHECK(store.batches_in_flight() == 2);
  auto fourth =
      store.send_batch(target_for(job, 1, batches[2].back().end_offset, batches[3]), batches[3]);
  REQUIRE(fourth.has_value());
  CHECK(fourth->outcome == verdict::terminal);
  CHECK(fourth->status == job_status::canceled);
  CHECK(store.batches_in_flight() == 0);

  // Nothing after the first batch was applied, and the next command reads its own reply.
  CHECK(job_field(inspect, job.id, "ckOffset") == std::to_string(checkpoint));
  CHECK(job_field(inspect, job.id, "created") == "2");
  CHECK(contact(inspect, tenant, batches[1][0].unique_key).empty());
  auto update = store.update(job.id, 1, {{"rowsTotal", "10"}});
  REQUIRE(update.has_value());
  CHECK(update->outcome == verdict::terminal);
}

TEST_CASE("worker store pipelined batches stop when fenced", "[redis][worker_store][pipeline]") {
  auto inspect = connect();
  worker_store store(connect());
  const std::string tenant = unique_tenant("pipeline-fenced");
  const job_record job = make_job(tenant);
  create_job(inspect, job);
  REQUIRE(store.start(job.id, lease_ms).has_value());
  worker_store newer(connect());
  REQUIRE(newer.start(job.id, lease_ms).has_value());

  CHECK(send_all(store, job, 1, ordered_batches()) == verdict::fenced);
  CHECK(store.batches_in_flight() == 0);
  CHECK(job_field(inspect, job.id, "ckOffset") == "0");
  CHECK(job_field(inspect, job.id, "created") == "0");
  auto update = store.update(job.id, 1, {{"rowsTotal", "10"}});
  REQUIRE(update.has_value());
  CHECK(update->outcome == verdict::fenced);
}

TEST_CASE("worker store pipelined stale batch", "[redis][worker_store][pipeline]") {
  auto inspect = connect();
  worker_store store(connect());
  const job_record job = make_job(unique_tenant("pipeline-stale"));
  create_job(inspect, job);
  REQUIRE(store.start(job.id, lease_ms).has_value());
  const auto batches = ordered_batches();

  // The first batch starts past the checkpoint, so it and the one chained to it change nothing.
  auto first = store.send_batch(target_for(job, 1, 100, batches[0]), batches[0]);
  REQUIRE(first.has_value());
  auto second =
      store.send_batch(target_for(job, 1, batches[0].back().end_offset, batches[1]), batches[1]);
  REQUIRE(second.has_value());
  auto awaited = store.await_batches();
  REQUIRE(awaited.has_value());
  CHECK(awaited->outcome == verdict::stale);
  CHECK(store.batches_in_flight() == 0);
  CHECK(job_field(inspect, job.id, "ckOffset") == "0");
  CHECK(job_field(inspect, job.id, "rowsProcessed") == "0");
}

TEST_CASE("worker store pipelined batches after script flush", "[redis][worker_store][pipeline]") {
  auto inspect = connect();
  worker_store store(connect());
  const std::string tenant = unique_tenant("pipeline-noscript");
  const job_record job = make_job(tenant);
  create_job(inspect, job);
  REQUIRE(store.start(job.id, lease_ms).has_value());

  // Every batch gets NOSCRIPT, so the store sends them again with their source, in order.
  REQUIRE(inspect.command({"SCRIPT", "FLUSH"}).has_value());
  const auto batches = ordered_batches();
  CHECK(send_all(store, job, 1, batches) == verdict::ok);
  CHECK(job_field(inspect, job.id, "created") == "10");
  CHECK(job_field(inspect, job.id, "updated") == "5");
  CHECK(job_field(inspect, job.id, "ckOffset") == std::to_string(batches[4].back().end_offset));
  CHECK(contact(inspect, tenant, "c2@x.test").at("firstname") == "v4");
}

namespace {

// A blob reader that calls a hook before each read of the import pass, which begins when the
// record counting pass rewinds the file to offset 0. The hook gets the read's number from 1.
class hooked_reader final : public jobgate::blob_reader {
 public:
  hooked_reader(std::unique_ptr<jobgate::blob_reader> inner, std::function<void(int)>& hook)
      : inner_(std::move(inner)), hook_(hook) {}

  boost::system::result<std::size_t> read(char* buffer, std::size_t size) override {
    if (rewound_ && hook_) {
      hook_(++reads_);
    }
    return inner_->read(buffer, size);
  }
  boost::system::result<void> seek(std::uint64_t offset) override {
    rewound_ = rewound_ || offset == 0;
    return inner_->seek(offset);
  }
  std::uint64_t size() const override { return inner_->size(); }

 private:
  std::unique_ptr<jobgate::blob_reader> inner_;
  std::function<void(int)>& hook_;
  bool rewound_ = false;
  int reads_ = 0;
};

// A filesystem blob store in a fresh temporary directory whose readers call `hook`.
class hooked_blob_store final : public jobgate::blob_store {
 public:
  hooked_blob_store()
      : root_(std::filesystem::temp_directory_path() / jobgate::test::unique_name("import-blobs")),
        inner_(root_) {}
  ~hooked_blob_store() override {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }

  boost::system::result<std::unique_ptr<jobgate::blob_writer>> create(
      std::string_view key) override {
    return inner_.create(key);
  }
  boost::system::result<std::unique_ptr<jobgate::blob_reader>> open(std::string_view key) override {
    auto opened = inner_.open(key);
    if (!opened) {
      return opened.error();
    }
    return std::unique_ptr<jobgate::blob_reader>(
        std::make_unique<hooked_reader>(std::move(*opened), hook));
  }
  boost::system::result<void> remove(std::string_view key) override { return inner_.remove(key); }
  std::optional<std::filesystem::path> local_path(std::string_view key) const override {
    return inner_.local_path(key);
  }
  boost::system::result<std::uint64_t> remove_stale_partials(std::chrono::seconds idle) override {
    return inner_.remove_stale_partials(idle);
  }

  bool holds(std::string_view key) const {
    return std::filesystem::exists(*inner_.local_path(key));
  }

  void put(std::string_view key, std::string_view bytes) {
    auto writer = inner_.create(key);
    REQUIRE(writer.has_value());
    REQUIRE((*writer)->write(bytes).has_value());
    REQUIRE((*writer)->commit().has_value());
  }

  std::function<void(int)> hook;

 private:
  std::filesystem::path root_;
  jobgate::filesystem_blob_store inner_;
};

// A CSV of `rows` contacts. Every 10th row has an invalid email, every 7th repeats the email of the
// row before it, and every 50th is blank.
std::string contacts_csv(int rows) {
  std::string csv = "email,firstname\n";
  for (int i = 1; i <= rows; ++i) {
    if (i % 50 == 0) {
      csv += ",\n";
    } else if (i % 10 == 0) {
      csv += "bad" + std::to_string(i) + ",Bad\n";
    } else if (i % 7 == 0) {
      csv += "c" + std::to_string(i - 1) + "@x.test,Again" + std::to_string(i) + "\n";
    } else {
      csv += "c" + std::to_string(i) + "@x.test,Name" + std::to_string(i) + "\n";
    }
  }
  return csv;
}

// One attempt at an import job through run_import. With more than 500 rows in each 64 KiB read
// chunk, the worker sends one batch per chunk.
struct import_run {
  explicit import_run(std::string_view test)
      : tenant(unique_tenant(test)), job(make_job(tenant)), store(connect()) {}

  jobgate::worker::job_outcome run(const std::string& csv) {
    create_job(inspect, job);
    auto started = store.start(job.id, lease_ms);
    REQUIRE(started.has_value());
    REQUIRE(started->outcome == verdict::ok);
    blobs.put("upload-" + job.id, csv);
    auto request = jobgate::json::parse(R"({"objectType":"contacts"})");
    REQUIRE(request.has_value());
    jobgate::worker::job_context context{job.id,
                                         tenant,
                                         job_kind::imports,
                                         "upload-" + job.id,
                                         *request,
                                         records::property_catalog::builtin(),
                                         started->attempt,
                                         *started,
                                         store,
                                         blobs,
                                         config,
                                         logger,
                                         stopping,
                                         liveness};
    return jobgate::worker::run_import(context);
  }

  std::string tenant;
  job_record job;
  redis::connection inspect = connect();
  worker_store store;
  hooked_blob_store blobs;
  jobgate::worker::worker_config config;
  jobgate::log::logger logger;
  std::atomic<bool> stopping{false};
  jobgate::worker::job_liveness liveness;
};

using outcome_kind = jobgate::worker::job_outcome::kind;

}  // namespace

TEST_CASE("import run with pipelined batches", "[redis][worker_store][pipeline][import]") {
  import_run attempt("import-pipelined");
  constexpr int rows = 20000;
  const std::string csv = contacts_csv(rows);
  REQUIRE(csv.size() > 5 * 64 * 1024);

  const auto outcome = attempt.run(csv);
  CHECK(outcome.result == outcome_kind::done);
  CHECK(outcome.error_detail.empty());
  CHECK(attempt.store.batches_in_flight() == 0);

  int created = 0;
  int updated = 0;
  int failed = 0;
  int blank = 0;
  for (int i = 1; i <= rows; ++i) {
    if (i % 50 == 0) {
      ++blank;
    } else if (i % 10 == 0) {
      ++failed;
    } else if (i % 7 == 0) {
      // The row before is a new contact unless it was itself invalid or blank.
      ++((i - 1) % 10 == 0 ? created : updated);
    } else {
      ++created;
    }
  }
  const auto fields = hash_of(attempt.inspect, store_keys::job(attempt.job.id));
  CHECK(fields.at("rowsTotal") == std::to_string(rows));
  CHECK(fields.at("created") == std::to_string(created));
  CHECK(fields.at("updated") == std::to_string(updated));
  CHECK(fields.at("failed") == std::to_string(failed));
  CHECK(fields.at("skippedBlank") == std::to_string(blank));
  CHECK(fields.at("rowsProcessed") == std::to_string(rows));
  CHECK(fields.at("ckOffset") == std::to_string(csv.size()));
  CHECK(fields.at("ckRow") == std::to_string(rows + 1));
  CHECK(attempt.store.record_count(attempt.tenant, "contacts") == created);
  CHECK(contact(attempt.inspect, attempt.tenant, "c6@x.test").at("firstname") == "Again7");
  CHECK(contact(attempt.inspect, attempt.tenant, "c19998@x.test").at("firstname") == "Again19999");
  CHECK(contact(attempt.inspect, attempt.tenant, "c19997@x.test").at("firstname") == "Name19997");
  CHECK(contact(attempt.inspect, attempt.tenant, "c1@x.test").at("id") == "1");
}

TEST_CASE("import run stops with batches in flight", "[redis][worker_store][pipeline][import]") {
  struct stop_case {
    std::string name;
    outcome_kind expected;
  };
  const std::vector<stop_case> cases = {{"cancel", outcome_kind::canceled},
                                        {"lease", outcome_kind::superseded}};
  for (const auto& item : cases) {
    INFO("stop by " << item.name);
    import_run attempt("import-stop-" + item.name);
    const std::string csv = contacts_csv(20000);
    REQUIRE(csv.size() > 5 * 64 * 1024);

    // Before the fourth chunk is read, the first chunk's batch is applied and the next two are in
    // flight. The job is canceled, or a newer attempt takes it over as after a lapsed lease.
    std::size_t in_flight_at_stop = 0;
    worker_store newer(connect());
    const auto stop = [&] {
      in_flight_at_stop = attempt.store.batches_in_flight();
      if (item.name == "cancel") {
        CHECK(cancel_job(attempt.inspect, attempt.job.id) == "PROCESSING");
        return;
      }
      auto started = newer.start(attempt.job.id, lease_ms);
      REQUIRE(started.has_value());
      CHECK(started->attempt == 2);
    };
    attempt.blobs.hook = [&](int read) {
      if (read == 4) {
        stop();
      }
    };

    const auto outcome = attempt.run(csv);
    CHECK(outcome.result == item.expected);
    CHECK(in_flight_at_stop == worker_store::max_batches_in_flight);
    CHECK(attempt.store.batches_in_flight() == 0);

    // Every applied batch moved the checkpoint with it: the rows up to ckRow are stored, later
    // rows are not, and the counts add up to the rows before the checkpoint.
    const auto fields = hash_of(attempt.inspect, store_keys::job(attempt.job.id));
    const auto checkpoint_row = std::stoull(fields.at("ckRow"));
    REQUIRE(checkpoint_row > 2);
    CHECK(checkpoint_row < 20001);
    CHECK(std::stoull(fields.at("rowsProcessed")) == checkpoint_row - 1);
    const long long counted = std::stoll(fields.at("created")) + std::stoll(fields.at("updated")) +
                              std::stoll(fields.at("failed")) +
                              std::stoll(fields.at("skippedBlank"));
    CHECK(counted == static_cast<long long>(checkpoint_row - 1));
    CHECK(attempt.store.record_count(attempt.tenant, "contacts") ==
          std::stoll(fields.at("created")));

    // Data row i is spreadsheet row i + 1. Rows that are invalid, blank or repeat an email store no
    // contact of their own, so the nearest plain rows on each side are checked.
    std::uint64_t stored = checkpoint_row - 1;
    while (stored % 10 == 0 || stored % 7 == 0) {
      --stored;
    }
    CHECK_FALSE(
        contact(attempt.inspect, attempt.tenant, "c" + std::to_string(stored) + "@x.test").empty());
    std::uint64_t absent = checkpoint_row;
    while (absent % 10 == 0 || absent % 7 == 0) {
      ++absent;
    }
    CHECK(
        contact(attempt.inspect, attempt.tenant, "c" + std::to_string(absent) + "@x.test").empty());

    // The store's next command reads its own reply.
    auto update = attempt.store.update(attempt.job.id, 1, {{"lastError", "x"}});
    REQUIRE(update.has_value());
    CHECK(update->outcome != verdict::ok);
  }
}

TEST_CASE("worker store finish sets retention", "[redis][worker_store]") {
  auto inspect = connect();
  worker_store store(connect());
  const job_record job = make_job(unique_tenant("retention"));
  create_job(inspect, job);
  REQUIRE(store.start(job.id, lease_ms).has_value());
  const std::vector<records::import_row> rows = {rejected_row(2, "x")};
  REQUIRE(apply(store, job, 1, 0, rows) == verdict::ok);
  CHECK(pttl(inspect, store_keys::job(job.id)) == -1);
  CHECK(pttl(inspect, store_keys::job_errors(job.id)) == -1);

  const auto before = jobgate::now_millis();
  auto finished = store.finish(job.id, 1, job_status::done, retention_ms,
                               {{"unmappedColumns", R"(["Notes"])"}});
  REQUIRE(finished.has_value());
  REQUIRE(finished->outcome == verdict::ok);

  const auto fields = hash_of(inspect, store_keys::job(job.id));
  CHECK(fields.at("status") == "DONE");
  CHECK(fields.at("unmappedColumns") == R"(["Notes"])");
  const auto finished_at = std::stoll(fields.at("finishedAt"));
  CHECK(finished_at >= before);
  CHECK(std::stoll(fields.at("expiresAt")) == finished_at + retention_ms);
  for (const auto& key : {store_keys::job(job.id), store_keys::job_errors(job.id)}) {
    const auto ttl = pttl(inspect, key);
    INFO("key " << key);
    CHECK(ttl > retention_ms - 60000);
    CHECK(ttl <= retention_ms);
  }
}

TEST_CASE("worker store refuses to finish pending job", "[redis][worker_store]") {
  auto inspect = connect();
  worker_store store(connect());
  const job_record job = make_job(unique_tenant("finish-pending"));
  create_job(inspect, job);

  // Only a running attempt ends a job. A PENDING job may be one taken over from an owner that
  // stopped, whose late finish must change nothing.
  for (const auto status : {job_status::done, job_status::failed}) {
    auto finished = store.finish(job.id, 0, status, retention_ms,
                                 {{"errorType", "invalid-request"}, {"errorDetail", "Bad."}});
    REQUIRE(finished.has_value());
    CHECK(finished->outcome == verdict::terminal);
    CHECK(finished->status == job_status::pending);
  }
  CHECK(job_field(inspect, job.id, "status") == "PENDING");
}

TEST_CASE("worker store update of running job", "[redis][worker_store]") {
  auto inspect = connect();
  worker_store store(connect());
  const job_record job = make_job(unique_tenant("update"));
  create_job(inspect, job);

  auto pending = store.update(job.id, 0, {{"rowsTotal", "5"}});
  REQUIRE(pending.has_value());
  CHECK(pending->outcome == verdict::terminal);
  CHECK(pending->status == job_status::pending);

  REQUIRE(store.start(job.id, lease_ms).has_value());
  auto updated = store.update(job.id, 1, {{"rowsTotal", "5"}});
  REQUIRE(updated.has_value());
  CHECK(updated->outcome == verdict::ok);
  CHECK(job_field(inspect, job.id, "rowsTotal") == "5");

  auto missing = store.update(jobgate::job_id::generate(job_kind::imports).str(), 1, {});
  REQUIRE(missing.has_value());
  CHECK(missing->outcome == verdict::missing);
}

TEST_CASE("worker store pages records", "[redis][worker_store]") {
  auto inspect = connect();
  worker_store store(connect());
  const std::string tenant = unique_tenant("paging");
  const job_record job = make_job(tenant);
  create_job(inspect, job);
  REQUIRE(store.start(job.id, lease_ms).has_value());

  std::vector<records::import_row> rows;
  for (std::uint64_t i = 0; i < 5; ++i) {
    const std::string email = "person" + std::to_string(i) + "@x.test";
    std::vector<records::import_value> values = {{"email", email}};
    if (i % 2 == 0) {
      values.push_back({"firstname", "Name" + std::to_string(i)});
    }
    rows.push_back(valid_row(i + 2, email, std::move(values)));
  }
  REQUIRE(apply(store, job, 1, 0, rows) == verdict::ok);
  CHECK(store.record_count(tenant, "contacts") == 5);
  CHECK(store.record_count(tenant, "companies") == 0);

  auto first_page = store.record_ids(tenant, "contacts", 0, 2);
  REQUIRE(first_page.has_value());
  CHECK(*first_page == std::vector<std::string>{"1", "2"});
  auto middle = store.record_ids(tenant, "contacts", 2, 2);
  REQUIRE(middle.has_value());
  CHECK(*middle == std::vector<std::string>{"3", "4"});
  auto last = store.record_ids(tenant, "contacts", 4, 2);
  REQUIRE(last.has_value());
  CHECK(*last == std::vector<std::string>{"5"});
  auto beyond = store.record_ids(tenant, "contacts", 5, 2);
  REQUIRE(beyond.has_value());
  CHECK(beyond->empty());

  auto values = store.record_values(tenant, "contacts", *middle, {"email", "firstname", "phone"});
  REQUIRE(values.has_value());
  REQUIRE(values->size() == 2);
  CHECK((*values)[0][0] == "person2@x.test");
  CHECK((*values)[0][1] == "Name2");
  CHECK_FALSE((*values)[0][2].has_value());
  CHECK((*values)[1][0] == "person3@x.test");
  CHECK_FALSE((*values)[1][1].has_value());

  auto none = store.record_values(tenant, "contacts", {}, {"email"});
  REQUIRE(none.has_value());
  CHECK(none->empty());
  auto gone = store.record_values(tenant, "contacts", {"999"}, {"email"});
  REQUIRE(gone.has_value());
  REQUIRE(gone->size() == 1);
  CHECK_FALSE((*gone)[0][0].has_value());
}

TEST_CASE("worker store tenants are separate", "[redis][worker_store]") {
  auto inspect = connect();
  worker_store store(connect());
  const std::string tenant_a = unique_tenant("tenant-a");
  const std::string tenant_b = unique_tenant("tenant-b");
  for (const auto& tenant : {tenant_a, tenant_b}) {
    const job_record job = make_job(tenant);
    create_job(inspect, job);
    REQUIRE(store.start(job.id, lease_ms).has_value());
    const std::vector<records::import_row> rows = {
        valid_row(2, "same@x.test", {{"email", "same@x.test"}, {"city", tenant}})};
    auto applied = store.apply_batch(target_for(job, 1, 0, rows), rows);
    REQUIRE(applied.has_value());
    CHECK(applied->outcome == verdict::ok);
    CHECK(job_field(inspect, job.id, "created") == "1");
  }
  CHECK(contact(inspect, tenant_a, "same@x.test").at("city") == tenant_a);
  CHECK(contact(inspect, tenant_b, "same@x.test").at("city") == tenant_b);
}

namespace {

jobgate::kafka::kafka_producer test_producer() {
  jobgate::kafka::kafka_config config;
  config.brokers = jobgate::test::test_brokers();
  config.client_id = "worker-store-test";
  return jobgate::kafka::kafka_producer(config);
}

std::optional<std::string> score_of(redis::connection& connection, std::string_view set,
                                    const std::string& member) {
  auto reply = connection.command("ZSCORE", set, member);
  REQUIRE(reply.has_value());
  if (reply->is_nil()) {
    return std::nullopt;
  }
  return std::string(reply->text());
}

}  // namespace

TEST_CASE("running job lease is renewed", "[redis][worker_store][lease]") {
  auto inspect = connect();
  worker_store store(connect());
  const job_record job = make_job(unique_tenant("lease-renew"));
  create_job(inspect, job);
  CHECK(score_of(inspect, store_keys::unqueued_jobs, job.id).has_value());

  const auto before = jobgate::now_millis();
  auto started = store.start(job.id, lease_ms);
  REQUIRE(started.has_value());
  const auto lease_until = std::stoll(job_field(inspect, job.id, "leaseUntil"));
  CHECK(lease_until >= before + lease_ms);
  CHECK(score_of(inspect, store_keys::running_leases, job.id) == std::to_string(lease_until));
  // A started job has its message in the topic, so nobody produces it again.
  CHECK_FALSE(score_of(inspect, store_keys::unqueued_jobs, job.id).has_value());

  auto renewed = store.renew_lease(job.id, 1, 2 * lease_ms);
  REQUIRE(renewed.has_value());
  CHECK(renewed->outcome == verdict::ok);
  CHECK(std::stoll(job_field(inspect, job.id, "leaseUntil")) >= lease_until + lease_ms);

  auto wrong_attempt = store.renew_lease(job.id, 2, lease_ms);
  REQUIRE(wrong_attempt.has_value());
  CHECK(wrong_attempt->outcome == verdict::fenced);

  REQUIRE(store.finish(job.id, 1, job_status::done, retention_ms, {}).has_value());
  CHECK_FALSE(score_of(inspect, store_keys::running_leases, job.id).has_value());
  auto after_finish = store.renew_lease(job.id, 1, lease_ms);
  REQUIRE(after_finish.has_value());
  CHECK(after_finish->outcome == verdict::terminal);
}

TEST_CASE("lapsed lease is taken over", "[redis][kafka][worker_store][lease]") {
  auto inspect = connect();
  worker_store store(connect());
  auto producer = test_producer();
  jobgate::worker::job_sweeper sweeper(connect(), producer, jobgate::tenants::tenant_limits{});
  job_record job = make_job(unique_tenant("lease-lapse"));
  job.message = R"({"jobId":")" + job.id + R"(","note":"sweeper test"})";
  create_job(inspect, job);

  auto first = store.start(job.id, 1);
  REQUIRE(first.has_value());
  REQUIRE(first->attempt == 1);
  ::usleep(20 * 1000);

  auto swept = sweeper.sweep();
  REQUIRE(swept.has_value());
  CHECK(swept->taken_over >= 1);
  CHECK(swept->produced >= 1);
  CHECK(job_field(inspect, job.id, "status") == "PENDING");
  CHECK(job_field(inspect, job.id, "lastError") == "attempt 1 stopped renewing its lease");
  CHECK_FALSE(score_of(inspect, store_keys::running_leases, job.id).has_value());
  // The message went to the broker again, so the entry is gone.
  CHECK_FALSE(score_of(inspect, store_keys::unqueued_jobs, job.id).has_value());

  // The old owner wakes up: its progress, renewal and finish change nothing.
  const std::vector<records::import_row> rows = {valid_row(2, "late@x.test", {})};
  auto late_batch = store.apply_batch(target_for(job, 1, 0, rows), rows);
  REQUIRE(late_batch.has_value());
  CHECK(late_batch->outcome == verdict::terminal);
  auto late_renewal = store.renew_lease(job.id, 1, lease_ms);
  REQUIRE(late_renewal.has_value());
  CHECK(late_renewal->outcome != verdict::ok);

  // The redelivered message starts attempt 2, which fences attempt 1 for good.
  auto second = store.start(job.id, lease_ms);
  REQUIRE(second.has_value());
  CHECK(second->attempt == 2);
  auto late_finish = store.finish(job.id, 1, job_status::done, retention_ms, {});
  REQUIRE(late_finish.has_value());
  CHECK(late_finish->outcome == verdict::fenced);
  CHECK(job_field(inspect, job.id, "created") == "0");

  // A lease that is renewed in time is left alone.
  auto again = sweeper.sweep();
  REQUIRE(again.has_value());
  CHECK(job_field(inspect, job.id, "status") == "PROCESSING");
}

TEST_CASE("unqueued job message produced", "[redis][kafka][worker_store][lease]") {
  auto inspect = connect();
  auto producer = test_producer();
  jobgate::worker::job_sweeper sweeper(connect(), producer, jobgate::tenants::tenant_limits{});
  job_record orphan = make_job(unique_tenant("unqueued"));
  orphan.message = R"({"jobId":")" + orphan.id + R"("})";
  create_job(inspect, orphan);
  job_record without_message = make_job(unique_tenant("unqueued-bare"));
  create_job(inspect, without_message);
  // Both are due now, as if the gateway had stopped before the broker acknowledged them.
  for (const auto& id : {orphan.id, without_message.id}) {
    REQUIRE(inspect.command("ZADD", store_keys::unqueued_jobs, "0", id).has_value());
  }

  auto swept = sweeper.sweep();
  REQUIRE(swept.has_value());
  CHECK(swept->produced >= 1);
  CHECK_FALSE(score_of(inspect, store_keys::unqueued_jobs, orphan.id).has_value());
  CHECK_FALSE(score_of(inspect, store_keys::unqueued_jobs, without_message.id).has_value());
  CHECK(job_field(inspect, orphan.id, "status") == "PENDING");
}

TEST_CASE("expired job leaves tenant index", "[redis][kafka][worker_store][lease]") {
  auto inspect = connect();
  worker_store store(connect());
  auto producer = test_producer();
  jobgate::worker::job_sweeper sweeper(connect(), producer, jobgate::tenants::tenant_limits{});
  const job_record job = make_job(unique_tenant("expiring"));
  create_job(inspect, job);
  REQUIRE(store.start(job.id, lease_ms).has_value());
  REQUIRE(store.finish(job.id, 1, job_status::done, 5, {}).has_value());
  const std::string entry = job.tenant + "/" + job.id;
  CHECK(score_of(inspect, store_keys::expiring_jobs, entry).has_value());
  ::usleep(30 * 1000);

  auto swept = sweeper.sweep();
  REQUIRE(swept.has_value());
  CHECK(swept->unindexed >= 1);
  CHECK_FALSE(score_of(inspect, store_keys::tenant_jobs(job.tenant), job.id).has_value());
  CHECK_FALSE(score_of(inspect, store_keys::expiring_jobs, entry).has_value());
}

TEST_CASE("expired job's files leave the blob store", "[redis][kafka][worker_store][lease]") {
  auto inspect = connect();
  worker_store store(connect());
  auto producer = test_producer();
  hooked_blob_store blobs;
  jobgate::worker::job_sweeper sweeper(connect(), producer, jobgate::tenants::tenant_limits{},
                                       &blobs);
  const std::string tenant = unique_tenant("expiring-files");
  const job_record expiring = make_job(tenant);
  const job_record unexpired = make_job(tenant);
  for (const auto& job : {expiring, unexpired}) {
    create_job(inspect, job);
    blobs.put(jobgate::blob_keys::import_upload(tenant, job.id), "email\n");
    blobs.put(jobgate::blob_keys::export_result(tenant, job.id, "ndjson"), "{}\n");
  }
  REQUIRE(store.start(expiring.id, lease_ms).has_value());
  REQUIRE(store.finish(expiring.id, 1, job_status::done, 5, {}).has_value());
  // The other job finished too, and its entry is due, but its key has not expired yet (its
  // expiry was moved, as a later EXPIRE would).
  REQUIRE(store.start(unexpired.id, lease_ms).has_value());
  REQUIRE(store.finish(unexpired.id, 1, job_status::done, 60 * 60 * 1000, {}).has_value());
  const std::string unexpired_entry = tenant + "/" + unexpired.id;
  REQUIRE(inspect.command("ZADD", store_keys::expiring_jobs, "1", unexpired_entry).has_value());
  ::usleep(30 * 1000);

  auto swept = sweeper.sweep();
  REQUIRE(swept.has_value());
  CHECK(swept->unindexed >= 1);
  CHECK(swept->files_removed == 2);
  CHECK_FALSE(blobs.holds(jobgate::blob_keys::import_upload(tenant, expiring.id)));
  CHECK_FALSE(blobs.holds(jobgate::blob_keys::export_result(tenant, expiring.id, "ndjson")));
  CHECK(blobs.holds(jobgate::blob_keys::import_upload(tenant, unexpired.id)));
  CHECK(blobs.holds(jobgate::blob_keys::export_result(tenant, unexpired.id, "ndjson")));
  CHECK_FALSE(score_of(inspect, store_keys::expiring_jobs, tenant + "/" + expiring.id).has_value());
  CHECK(score_of(inspect, store_keys::expiring_jobs, unexpired_entry).has_value());
  CHECK(score_of(inspect, store_keys::tenant_jobs(tenant), unexpired.id).has_value());
}

TEST_CASE("sweeper removes stale partial files of the blob store",
          "[redis][kafka][worker_store][lease]") {
  auto producer = test_producer();
  hooked_blob_store blobs;
  jobgate::worker::job_sweeper sweeper(connect(), producer, jobgate::tenants::tenant_limits{},
                                       &blobs);
  const std::string key = "partials/exports/exp_1.csv";
  blobs.put(key, "email\n");
  const auto stale = *blobs.local_path(key + ".tmp.41.1");
  const auto fresh = *blobs.local_path(key + ".tmp.41.2");
  for (const auto& path : {stale, fresh}) {
    std::ofstream(path) << "email\n";
  }
  const auto now = std::filesystem::file_time_type::clock::now();
  std::filesystem::last_write_time(stale, now - std::chrono::hours(2));
  std::filesystem::last_write_time(*blobs.local_path(key), now - std::chrono::hours(2));

  auto swept = sweeper.sweep();
  REQUIRE(swept.has_value());
  CHECK(swept->files_removed == 1);
  CHECK_FALSE(std::filesystem::exists(stale));
  CHECK(std::filesystem::exists(fresh));
  CHECK(blobs.holds(key));

  // The next walk waits for the check interval.
  std::filesystem::last_write_time(fresh, now - std::chrono::hours(2));
  swept = sweeper.sweep();
  REQUIRE(swept.has_value());
  CHECK(swept->files_removed == 0);
  CHECK(std::filesystem::exists(fresh));
}

namespace {

std::string counts_field(const job_record& job) {
  return std::string(to_string(job.kind)) + ":" + job.tenant;
}

std::string deferred_count(redis::connection& connection, const job_record& job) {
  auto reply = connection.command("HGET", store_keys::deferred_counts, counts_field(job));
  REQUIRE(reply.has_value());
  return reply->is_nil() ? "" : std::string(reply->text());
}

long long set_size(redis::connection& connection, const std::string& key) {
  auto reply = connection.command("ZCARD", key);
  REQUIRE(reply.has_value());
  return reply->integer();
}

// Jobs of one tenant and kind created a millisecond apart, so their queue order is fixed.
std::vector<job_record> make_jobs(redis::connection& connection, const std::string& tenant,
                                  job_kind kind, int count) {
  std::vector<job_record> jobs;
  for (int i = 0; i < count; ++i) {
    job_record job = make_job(tenant, kind);
    job.created_at += i;
    job.message = R"({"jobId":")" + job.id + R"("})";
    create_job(connection, job);
    jobs.push_back(job);
  }
  return jobs;
}

}  // namespace

TEST_CASE("running cap defers jobs past it", "[redis][worker_store][caps]") {
  auto inspect = connect();
  worker_store store(connect());
  const auto jobs = make_jobs(inspect, unique_tenant("cap"), job_kind::imports, 4);
  const std::string& tenant = jobs[0].tenant;

  for (int i = 0; i < 2; ++i) {
    auto admitted = store.admit(jobs[i].id, tenant, job_kind::imports, 2);
    REQUIRE(admitted.has_value());
    CHECK(admitted->run);
    CHECK(admitted->promoted.empty());
    REQUIRE(store.start(jobs[i].id, lease_ms).has_value());
  }
  for (int i = 2; i < 4; ++i) {
    auto admitted = store.admit(jobs[i].id, tenant, job_kind::imports, 2);
    REQUIRE(admitted.has_value());
    CHECK_FALSE(admitted->run);
    CHECK(admitted->position == i - 1);
    CHECK(admitted->cap == 2);
    CHECK(job_field(inspect, jobs[i].id, "deferredCap") == "2");
    CHECK(job_field(inspect, jobs[i].id, "status") == "PENDING");
  }
  CHECK(deferred_count(inspect, jobs[0]) == "2");

  // A redelivered message of a waiting job keeps its place and its count.
  auto again = store.admit(jobs[2].id, tenant, job_kind::imports, 2);
  REQUIRE(again.has_value());
  CHECK_FALSE(again->run);
  CHECK(again->position == 1);
  CHECK(deferred_count(inspect, jobs[0]) == "2");

  // The first job ends: its place goes to the oldest waiting job, whose message is due again.
  REQUIRE(store.finish(jobs[0].id, 1, job_status::done, retention_ms, {}).has_value());
  auto promoted = store.release(jobs[0].id, tenant, job_kind::imports, 2);
  REQUIRE(promoted.has_value());
  REQUIRE(promoted->size() == 1);
  CHECK((*promoted)[0] == jobs[2].id);
  CHECK(job_field(inspect, jobs[2].id, "deferredCap").empty());
  CHECK(score_of(inspect, store_keys::unqueued_jobs, jobs[2].id).has_value());
  CHECK(deferred_count(inspect, jobs[0]) == "1");
  auto promoted_admission = store.admit(jobs[2].id, tenant, job_kind::imports, 2);
  REQUIRE(promoted_admission.has_value());
  CHECK(promoted_admission->run);

  // Canceling a waiting job takes it out of the queue.
  CHECK(cancel_job(inspect, jobs[3].id) == "PENDING");
  CHECK(set_size(inspect, store_keys::deferred_jobs("imports", tenant)) == 0);
  CHECK(deferred_count(inspect, jobs[0]) == "0");
  auto after_cancel = store.release("", tenant, job_kind::imports, 2);
  REQUIRE(after_cancel.has_value());
  CHECK(after_cancel->empty());
}

TEST_CASE("running cap of tenant record", "[redis][worker_store][caps]") {
  auto inspect = connect();
  worker_store store(connect());
  const auto exports = make_jobs(inspect, unique_tenant("cap-record"), job_kind::exports, 2);
  const std::string& tenant = exports[0].tenant;
  REQUIRE(inspect.command("HSET", store_keys::tenant_limits(tenant), "running-exports", "1")
              .has_value());

  auto first = store.admit(exports[0].id, tenant, job_kind::exports, 5);
  REQUIRE(first.has_value());
  CHECK(first->run);
  auto second = store.admit(exports[1].id, tenant, job_kind::exports, 5);
  REQUIRE(second.has_value());
  CHECK_FALSE(second->run);
  CHECK(second->cap == 1);

  // Imports of the same tenant have a cap of their own, here the default of 0: no cap.
  const auto imports = make_jobs(inspect, tenant, job_kind::imports, 3);
  for (const auto& job : imports) {
    auto admitted = store.admit(job.id, tenant, job_kind::imports, 0);
    REQUIRE(admitted.has_value());
    CHECK(admitted->run);
  }
  CHECK(set_size(inspect, store_keys::running_jobs("imports", tenant)) == 0);

  // Turning the cap off lets every waiting job run at the next release.
  REQUIRE(inspect.command("HSET", store_keys::tenant_limits(tenant), "running-exports", "0")
              .has_value());
  auto released = store.release("", tenant, job_kind::exports, 5);
  REQUIRE(released.has_value());
  REQUIRE(released->size() == 1);
  CHECK((*released)[0] == exports[1].id);
}

TEST_CASE("running cap frees places of ended jobs", "[redis][worker_store][caps]") {
  auto inspect = connect();
  worker_store store(connect());
  const auto jobs = make_jobs(inspect, unique_tenant("cap-ended"), job_kind::imports, 2);
  const std::string& tenant = jobs[0].tenant;

  auto first = store.admit(jobs[0].id, tenant, job_kind::imports, 1);
  REQUIRE(first.has_value());
  REQUIRE(first->run);
  REQUIRE(store.start(jobs[0].id, lease_ms).has_value());
  // Canceled while it runs, and its worker stops before it frees the place.
  CHECK(cancel_job(inspect, jobs[0].id) == "PROCESSING");

  auto second = store.admit(jobs[1].id, tenant, job_kind::imports, 1);
  REQUIRE(second.has_value());
  CHECK(second->run);
  CHECK(set_size(inspect, store_keys::deferred_jobs("imports", tenant)) == 0);
}

TEST_CASE("sweeper promotes deferred jobs", "[redis][kafka][worker_store][caps]") {
  auto inspect = connect();
  worker_store store(connect());
  auto producer = test_producer();
  jobgate::tenants::tenant_limits defaults;
  defaults.running_imports = 1;
  jobgate::worker::job_sweeper sweeper(connect(), producer, defaults);
  const auto jobs = make_jobs(inspect, unique_tenant("cap-sweep"), job_kind::imports, 2);
  const std::string& tenant = jobs[0].tenant;

  REQUIRE(store.admit(jobs[0].id, tenant, job_kind::imports, 1).has_value());
  REQUIRE(store.start(jobs[0].id, lease_ms).has_value());
  auto waiting = store.admit(jobs[1].id, tenant, job_kind::imports, 1);
  REQUIRE(waiting.has_value());
  REQUIRE_FALSE(waiting->run);
  CHECK(cancel_job(inspect, jobs[0].id) == "PROCESSING");

  auto swept = sweeper.sweep();
  REQUIRE(swept.has_value());
  CHECK(swept->promoted >= 1);
  CHECK(set_size(inspect, store_keys::deferred_jobs("imports", tenant)) == 0);
  CHECK(score_of(inspect, store_keys::running_jobs("imports", tenant), jobs[1].id).has_value());
  // The promoted job's message went to the broker, so it is no longer unqueued.
  CHECK_FALSE(score_of(inspect, store_keys::unqueued_jobs, jobs[1].id).has_value());
  CHECK(deferred_count(inspect, jobs[0]).empty());
}
