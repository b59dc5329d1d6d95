#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "async_redis_fixture.hpp"
#include "common/jobs/job_codec.hpp"
#include "common/jobs/job_scripts.hpp"
#include "common/jobs/store_keys.hpp"
#include "common/redis/connection.hpp"
#include "common/redis/redis_endpoint.hpp"
#include "gateway/redis_job_repository.hpp"
#include "redis_test_server.hpp"
#include "worker/slot_reporter.hpp"
#include "worker/worker_store.hpp"

// The gateway's side of the job store against a real Redis, on an io_context as the gateway runs
// it, with the worker's store moving jobs between states the way a worker would.

namespace {

namespace redis = jobgate::redis;
namespace records = jobgate::records;
namespace store_keys = jobgate::store_keys;
using jobgate::job_kind;
using jobgate::job_record;
using jobgate::job_status;
using jobgate::gateway::redis_job_repository;
using jobgate::worker::worker_store;

constexpr std::int64_t retention_ms = 2 * 3600 * 1000;
constexpr std::int64_t lease_ms = 60 * 1000;

redis::connection connect_sync() {
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
  job.name = "spring fair";
  job.object_type = "contacts";
  job.created_at = jobgate::now_millis();
  job.updated_at = job.created_at;
  job.request_json = R"({"objectType":"contacts","name":"spring fair"})";
  job.blob_key = tenant + "/imports/" + job.id + ".csv";
  job.result_format = kind == job_kind::exports ? "csv" : "";
  return job;
}

// The repository's calls, each run on the fixture's io thread.
class async_store {
 public:
  boost::system::result<bool> create(const job_record& job) {
    return fixture_.run([&](auto& repository) { return repository.create(job); });
  }
  boost::system::result<std::optional<job_record>> find(const std::string& id) {
    return fixture_.run([&](auto& repository) { return repository.find(id); });
  }
  boost::system::result<void> remove(const job_record& job) {
    return fixture_.run([&](auto& repository) { return repository.remove(job); });
  }
  boost::system::result<jobgate::gateway::error_page> errors(const std::string& id,
                                                             std::int64_t offset,
                                                             std::int64_t limit) {
    return fixture_.run([&](auto& repository) { return repository.errors(id, offset, limit); });
  }
  boost::system::result<jobgate::gateway::cancel_outcome> cancel(const std::string& id) {
    return fixture_.run([&](auto& repository) { return repository.cancel(id, retention_ms); });
  }
  bool ping() {
    return fixture_.run([](auto& repository) { return repository.ping(); });
  }
  jobgate::gateway::job_kind_totals totals(job_kind kind) {
    auto read = fixture_.run([](auto& repository) { return repository.totals(); });
    REQUIRE(read.has_value());
    const auto found = read->find(kind);
    return found == read->end() ? jobgate::gateway::job_kind_totals{} : found->second;
  }
  void close() { fixture_.close(); }
  void mark_queued(const job_record& job) { fixture_.repository().mark_queued(job); }

 private:
  jobgate::test::async_redis_fixture<redis_job_repository> fixture_;
};

job_record find_existing(async_store& store, const std::string& id) {
  auto found = store.find(id);
  REQUIRE(found.has_value());
  REQUIRE(found->has_value());
  return **found;
}

long long zrem_calls(redis::connection& connection) {
  auto reply = connection.command("INFO", "commandstats");
  REQUIRE(reply.has_value());
  const std::string text(reply->text());
  const auto found = text.find("cmdstat_zrem:calls=");
  return found == std::string::npos
             ? 0
             : std::stoll(text.substr(found + std::string_view("cmdstat_zrem:calls=").size()));
}

long long pttl(redis::connection& connection, const std::string& key) {
  auto reply = connection.command("PTTL", key);
  REQUIRE(reply.has_value());
  return reply->integer();
}

records::import_row rejected_row(std::uint64_t row) {
  records::import_row result;
  result.row = row;
  result.line = row;
  result.end_offset = row * 10;
  result.next_line = row + 1;
  result.status = records::row_status::rejected;
  records::row_error error;
  error.row = row;
  error.line = row;
  error.kind = records::row_error_kind::missing_required;
  error.column = "Email";
  error.property = "email";
  error.detail = "email is required, but the cell is empty";
  result.error = error;
  return result;
}

records::import_row contact_row(std::uint64_t row, const std::string& email) {
  records::import_row result;
  result.row = row;
  result.line = row;
  result.end_offset = row * 10;
  result.next_line = row + 1;
  result.status = records::row_status::valid;
  result.unique_key = email;
  result.values = {{"email", email}};
  return result;
}

worker_store::batch_target batch_for(const job_record& job, std::int64_t attempt,
                                     std::uint64_t from_offset,
                                     const std::vector<records::import_row>& rows) {
  worker_store::batch_target target;
  target.job_id = job.id;
  target.attempt = attempt;
  target.tenant = job.tenant;
  target.object_type = job.object_type;
  target.unique_property = "email";
  target.from_offset = from_offset;
  target.to = rows.back().checkpoint();
  return target;
}

}  // namespace

TEST_CASE("job store create and find", "[redis][job_store]") {
  async_store store;
  auto inspect = connect_sync();
  const job_record job = make_job(unique_tenant("create"));

  auto created = store.create(job);
  REQUIRE(created.has_value());
  CHECK(*created);

  const job_record found = find_existing(store, job.id);
  CHECK(found.id == job.id);
  CHECK(found.tenant == job.tenant);
  CHECK(found.kind == job_kind::imports);
  CHECK(found.status == job_status::pending);
  CHECK(found.name == job.name);
  CHECK(found.object_type == job.object_type);
  CHECK(found.created_at == job.created_at);
  CHECK(found.updated_at == job.updated_at);
  CHECK(found.request_json == job.request_json);
  CHECK(found.blob_key == job.blob_key);
  CHECK(found.attempts == 0);
  CHECK(found.counts.rows_total == -1);
  CHECK(found.expires_at == 0);

  // The job is listed in its tenant's index, scored by creation time.
  auto score = inspect.command("ZSCORE", store_keys::tenant_jobs(job.tenant), job.id);
  REQUIRE(score.has_value());
  CHECK(score->text() == std::to_string(job.created_at));
  CHECK(pttl(inspect, store_keys::job(job.id)) == -1);
}

TEST_CASE("job store create keeps existing job", "[redis][job_store]") {
  async_store store;
  job_record job = make_job(unique_tenant("duplicate"));
  REQUIRE(store.create(job).has_value());

  job.name = "overwritten";
  auto again = store.create(job);
  REQUIRE(again.has_value());
  CHECK_FALSE(*again);
  CHECK(find_existing(store, job.id).name == "spring fair");
}

TEST_CASE("job store find missing job", "[redis][job_store]") {
  async_store store;
  auto found = store.find(jobgate::job_id::generate(job_kind::exports).str());
  REQUIRE(found.has_value());
  CHECK_FALSE(found->has_value());
}

TEST_CASE("job store find incomplete hash", "[redis][job_store]") {
  async_store store;
  auto inspect = connect_sync();
  const std::string id = jobgate::job_id::generate(job_kind::imports).str();
  REQUIRE(inspect.command("HSET", store_keys::job(id), "id", id, "status", "PENDING").has_value());
  auto found = store.find(id);
  REQUIRE(found.has_value());
  CHECK_FALSE(found->has_value());
  REQUIRE(inspect.command("DEL", store_keys::job(id)).has_value());
}

TEST_CASE("job store remove", "[redis][job_store]") {
  async_store store;
  auto inspect = connect_sync();
  const job_record job = make_job(unique_tenant("remove"));
  REQUIRE(store.create(job).has_value());

  REQUIRE(store.remove(job).has_value());
  auto found = store.find(job.id);
  REQUIRE(found.has_value());
  CHECK_FALSE(found->has_value());
  auto score = inspect.command("ZSCORE", store_keys::tenant_jobs(job.tenant), job.id);
  REQUIRE(score.has_value());
  CHECK(score->is_nil());

  // Removing again is harmless, so cleanup after a failed publish may repeat.
  CHECK(store.remove(job).has_value());
}

TEST_CASE("job store sees worker progress", "[redis][job_store]") {
  async_store store;
  auto inspect = connect_sync();
  worker_store worker(connect_sync());
  const job_record job = make_job(unique_tenant("progress"));
  REQUIRE(store.create(job).has_value());

  auto started = worker.start(job.id, lease_ms);
  REQUIRE(started.has_value());
  REQUIRE(started->attempt == 1);
  REQUIRE(worker.update(job.id, 1, {{"rowsTotal", "3"}}).has_value());
  const std::vector<records::import_row> rows = {contact_row(2, "a@x.test"), rejected_row(3)};
  auto applied = worker.apply_batch(batch_for(job, 1, 0, rows), rows);
  REQUIRE(applied.has_value());
  REQUIRE(applied->outcome == worker_store::verdict::ok);

  const job_record running = find_existing(store, job.id);
  CHECK(running.status == job_status::processing);
  CHECK(running.attempts == 1);
  CHECK(running.started_at > 0);
  CHECK(running.counts.rows_total == 3);
  CHECK(running.counts.rows_processed == 2);
  CHECK(running.counts.created == 1);
  CHECK(running.counts.failed == 1);

  auto finished = worker.finish(job.id, 1, job_status::done, retention_ms, {});
  REQUIRE(finished.has_value());
  REQUIRE(finished->outcome == worker_store::verdict::ok);
  const job_record done = find_existing(store, job.id);
  CHECK(done.status == job_status::done);
  CHECK(done.finished_at >= running.started_at);
  CHECK(done.expires_at == done.finished_at + retention_ms);
  const auto ttl = pttl(inspect, store_keys::job(job.id));
  CHECK(ttl > 0);
  CHECK(ttl <= retention_ms);
}

TEST_CASE("job store errors page", "[redis][job_store]") {
  async_store store;
  worker_store worker(connect_sync());
  const job_record job = make_job(unique_tenant("errors"));
  REQUIRE(store.create(job).has_value());
  REQUIRE(worker.start(job.id, lease_ms).has_value());
  std::vector<records::import_row> rows;
  for (std::uint64_t row = 2; row <= 6; ++row) {
    rows.push_back(rejected_row(row));
  }
  auto applied = worker.apply_batch(batch_for(job, 1, 0, rows), rows);
  REQUIRE(applied.has_value());
  REQUIRE(applied->outcome == worker_store::verdict::ok);

  auto first = store.errors(job.id, 0, 2);
  REQUIRE(first.has_value());
  CHECK(first->total == 5);
  REQUIRE(first->entries.size() == 2);
  CHECK(first->entries[0] == jobgate::worker::row_error_json(*rejected_row(2).error));
  CHECK(first->entries[1] == jobgate::worker::row_error_json(*rejected_row(3).error));

  auto last = store.errors(job.id, 4, 2);
  REQUIRE(last.has_value());
  CHECK(last->total == 5);
  REQUIRE(last->entries.size() == 1);
  CHECK(last->entries[0] == jobgate::worker::row_error_json(*rejected_row(6).error));

  auto beyond = store.errors(job.id, 10, 2);
  REQUIRE(beyond.has_value());
  CHECK(beyond->total == 5);
  CHECK(beyond->entries.empty());

  auto none = store.errors(make_job(job.tenant).id, 0, 100);
  REQUIRE(none.has_value());
  CHECK(none->total == 0);
  CHECK(none->entries.empty());
}

TEST_CASE("job store cancel pending job", "[redis][job_store]") {
  async_store store;
  auto inspect = connect_sync();
  worker_store worker(connect_sync());
  const job_record job = make_job(unique_tenant("cancel-pending"));
  REQUIRE(store.create(job).has_value());

  auto outcome = store.cancel(job.id);
  REQUIRE(outcome.has_value());
  CHECK(outcome->canceled);
  CHECK(outcome->status == job_status::canceled);

  const job_record canceled = find_existing(store, job.id);
  CHECK(canceled.status == job_status::canceled);
  CHECK(canceled.finished_at > 0);
  CHECK(canceled.expires_at == canceled.finished_at + retention_ms);
  const auto ttl = pttl(inspect, store_keys::job(job.id));
  CHECK(ttl > 0);
  CHECK(ttl <= retention_ms);

  // The queued message still arrives at a worker, which must not run it.
  auto started = worker.start(job.id, lease_ms);
  REQUIRE(started.has_value());
  CHECK(started->outcome == worker_store::verdict::terminal);
  CHECK(started->status == job_status::canceled);
  CHECK(find_existing(store, job.id).attempts == 0);
}

TEST_CASE("job store cancel processing job", "[redis][job_store]") {
  async_store store;
  auto inspect = connect_sync();
  worker_store worker(connect_sync());
  const job_record job = make_job(unique_tenant("cancel-processing"));
  REQUIRE(store.create(job).has_value());
  REQUIRE(worker.start(job.id, lease_ms).has_value());
  const std::vector<records::import_row> first = {contact_row(2, "kept@x.test"), rejected_row(3)};
  REQUIRE(worker.apply_batch(batch_for(job, 1, 0, first), first).has_value());

  auto outcome = store.cancel(job.id);
  REQUIRE(outcome.has_value());
  CHECK(outcome->canceled);
  // The errors written so far expire with the job.
  const auto errors_ttl = pttl(inspect, store_keys::job_errors(job.id));
  CHECK(errors_ttl > 0);
  CHECK(errors_ttl <= retention_ms);

  // A late batch and a late finish of the running attempt are rejected.
  const std::vector<records::import_row> late = {contact_row(4, "late@x.test")};
  auto batch = worker.apply_batch(batch_for(job, 1, 30, late), late);
  REQUIRE(batch.has_value());
  CHECK(batch->outcome == worker_store::verdict::terminal);
  CHECK(batch->status == job_status::canceled);
  auto finish = worker.finish(job.id, 1, job_status::done, retention_ms, {});
  REQUIRE(finish.has_value());
  CHECK(finish->outcome == worker_store::verdict::terminal);
  CHECK(finish->status == job_status::canceled);

  const job_record canceled = find_existing(store, job.id);
  CHECK(canceled.status == job_status::canceled);
  CHECK(canceled.counts.created == 1);
  CHECK(canceled.counts.rows_processed == 2);
  auto late_record =
      inspect.command("HGET", store_keys::unique_index(job.tenant, "contacts"), "late@x.test");
  REQUIRE(late_record.has_value());
  CHECK(late_record->is_nil());
  auto kept_record =
      inspect.command("HGET", store_keys::unique_index(job.tenant, "contacts"), "kept@x.test");
  REQUIRE(kept_record.has_value());
  CHECK_FALSE(kept_record->is_nil());
}

TEST_CASE("job store cancel finished job", "[redis][job_store]") {
  async_store store;
  worker_store worker(connect_sync());
  const std::string tenant = unique_tenant("cancel-finished");
  for (const auto final_status : {job_status::done, job_status::failed}) {
    const job_record job = make_job(tenant, job_kind::exports);
    REQUIRE(store.create(job).has_value());
    REQUIRE(worker.start(job.id, lease_ms).has_value());
    auto finished = worker.finish(job.id, 1, final_status, retention_ms,
                                  {{"errorType", "x"}, {"errorDetail", "y"}});
    REQUIRE(finished.has_value());
    REQUIRE(finished->outcome == worker_store::verdict::ok);
    const job_record before = find_existing(store, job.id);

    auto outcome = store.cancel(job.id);
    REQUIRE(outcome.has_value());
    INFO("final status " << jobgate::to_string(final_status));
    CHECK_FALSE(outcome->canceled);
    CHECK(outcome->status == final_status);
    const job_record after = find_existing(store, job.id);
    CHECK(after.status == final_status);
    CHECK(after.updated_at == before.updated_at);
    CHECK(after.expires_at == before.expires_at);
  }
}

TEST_CASE("job store cancel twice", "[redis][job_store]") {
  async_store store;
  const job_record job = make_job(unique_tenant("cancel-twice"));
  REQUIRE(store.create(job).has_value());
  auto first = store.cancel(job.id);
  REQUIRE(first.has_value());
  CHECK(first->canceled);
  auto second = store.cancel(job.id);
  REQUIRE(second.has_value());
  CHECK_FALSE(second->canceled);
  CHECK(second->status == job_status::canceled);
}

TEST_CASE("job store marks jobs queued in batches", "[redis][job_store]") {
  async_store store;
  auto inspect = connect_sync();
  const std::string tenant = unique_tenant("queued");
  constexpr int count = 200;
  std::vector<job_record> jobs;
  for (int i = 0; i < count; ++i) {
    jobs.push_back(make_job(tenant, job_kind::exports));
    REQUIRE(inspect.command("ZADD", store_keys::unqueued_jobs, "0", jobs.back().id).has_value());
  }
  const long long calls_before = zrem_calls(inspect);

  for (const auto& job : jobs) {
    store.mark_queued(job);
  }

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int left = count;
  while (left > 0 && std::chrono::steady_clock::now() < deadline) {
    left = 0;
    for (const auto& job : jobs) {
      auto score = inspect.command("ZSCORE", store_keys::unqueued_jobs, job.id);
      REQUIRE(score.has_value());
      left += score->is_nil() ? 0 : 1;
    }
  }
  CHECK(left == 0);
  // The ids that arrive while one ZREM is on its way go out together in the next one.
  CHECK(zrem_calls(inspect) - calls_before < count / 2);
}

TEST_CASE("job store ping", "[redis][job_store]") {
  async_store store;
  CHECK(store.ping());
  store.close();
  CHECK_FALSE(store.ping());
  auto found = store.find(jobgate::job_id::generate(job_kind::imports).str());
  CHECK_FALSE(found.has_value());
}

// The totals are Redis-wide and other tests leave jobs behind, so each check compares with the
// totals read before this test's job existed. Tests run one at a time against the shared Redis.
TEST_CASE("job store totals follow one import", "[redis][job_store]") {
  async_store store;
  auto inspect = connect_sync();
  worker_store worker(connect_sync());
  const auto before = store.totals(job_kind::imports);
  const job_record job = make_job(unique_tenant("totals"));
  REQUIRE(store.create(job).has_value());
  CHECK(store.totals(job_kind::imports).pending == before.pending + 1);

  REQUIRE(worker.start(job.id, lease_ms).has_value());
  auto running = store.totals(job_kind::imports);
  CHECK(running.pending == before.pending);
  CHECK(running.processing == before.processing + 1);
  CHECK(running.rows_remaining == before.rows_remaining);

  REQUIRE(worker.update(job.id, 1, {{"rowsTotal", "5"}}).has_value());
  CHECK(store.totals(job_kind::imports).rows_remaining == before.rows_remaining + 5);
  const std::vector<records::import_row> rows = {contact_row(2, "a@x.test"), rejected_row(3)};
  auto applied = worker.apply_batch(batch_for(job, 1, 0, rows), rows);
  REQUIRE(applied.has_value());
  REQUIRE(applied->outcome == worker_store::verdict::ok);
  CHECK(store.totals(job_kind::imports).rows_remaining == before.rows_remaining + 3);

  // A lapsed lease puts the job back to PENDING with its rows still counted.
  REQUIRE(inspect.command("HSET", store_keys::job(job.id), "leaseUntil", "1").has_value());
  auto command = jobgate::job_scripts::eval_command(
      jobgate::job_scripts::take_over_job,
      {store_keys::job(job.id), store_keys::running_leases, store_keys::unqueued_jobs});
  command.push_back(static_cast<long long>(jobgate::now_millis()));
  auto taken = inspect.command(command);
  REQUIRE(taken.has_value());
  REQUIRE((*taken)[0].text() == "taken");
  auto requeued = store.totals(job_kind::imports);
  CHECK(requeued.pending == before.pending + 1);
  CHECK(requeued.processing == before.processing);
  CHECK(requeued.rows_remaining == before.rows_remaining + 3);

  auto restarted = worker.start(job.id, lease_ms);
  REQUIRE(restarted.has_value());
  REQUIRE(restarted->attempt == 2);
  auto finished = worker.finish(job.id, 2, job_status::done, retention_ms, {});
  REQUIRE(finished.has_value());
  REQUIRE(finished->outcome == worker_store::verdict::ok);
  auto after = store.totals(job_kind::imports);
  CHECK(after.pending == before.pending);
  CHECK(after.processing == before.processing);
  CHECK(after.rows_remaining == before.rows_remaining);
}

TEST_CASE("job store totals after cancel and remove", "[redis][job_store]") {
  async_store store;
  const auto before = store.totals(job_kind::exports);
  const job_record canceled = make_job(unique_tenant("totals-cancel"), job_kind::exports);
  const job_record removed = make_job(unique_tenant("totals-remove"), job_kind::exports);
  REQUIRE(store.create(canceled).has_value());
  REQUIRE(store.create(removed).has_value());
  CHECK(store.totals(job_kind::exports).pending == before.pending + 2);

  REQUIRE(store.cancel(canceled.id).has_value());
  CHECK(store.totals(job_kind::exports).pending == before.pending + 1);
  // A second cancel and a second remove change nothing.
  REQUIRE(store.cancel(canceled.id).has_value());
  REQUIRE(store.remove(removed).has_value());
  REQUIRE(store.remove(removed).has_value());
  const auto after = store.totals(job_kind::exports);
  CHECK(after.pending == before.pending);
  CHECK(after.processing == before.processing);
}

// Other tests and workers may report slots to the same Redis, so these compare with the fleet read
// before each change.
TEST_CASE("job store totals sum live worker slots", "[redis][job_store][slots]") {
  using jobgate::worker::slot_reporter;
  using jobgate::worker_slots::kind_slots;
  async_store store;
  auto redis = connect_sync();
  const auto before_imports = store.totals(job_kind::imports).fleet;
  const auto before_exports = store.totals(job_kind::exports).fleet;
  const std::string first = jobgate::test::unique_name("worker-a");
  const std::string second = jobgate::test::unique_name("worker-b");
  const std::vector<kind_slots> both{{job_kind::imports, 4, 1}, {job_kind::exports, 2, 0}};
  const std::vector<kind_slots> imports_busy{{job_kind::imports, 2, 2}};
  const std::vector<kind_slots> imports_idle{{job_kind::imports, 2, 0}};
  const std::chrono::minutes lapse(1);

  REQUIRE(slot_reporter::report(redis, first, both, lapse).has_value());
  REQUIRE(slot_reporter::report(redis, second, imports_busy, lapse).has_value());
  auto imports = store.totals(job_kind::imports).fleet;
  CHECK(imports.workers == before_imports.workers + 2);
  CHECK(imports.slots == before_imports.slots + 6);
  CHECK(imports.busy == before_imports.busy + 3);
  auto exports = store.totals(job_kind::exports).fleet;
  CHECK(exports.workers == before_exports.workers + 1);
  CHECK(exports.slots == before_exports.slots + 2);
  CHECK(exports.busy == before_exports.busy);

  // A new report replaces the worker's last one.
  REQUIRE(slot_reporter::report(redis, second, imports_idle, lapse).has_value());
  CHECK(store.totals(job_kind::imports).fleet.busy == before_imports.busy + 1);

  // A stopping worker removes its report at once.
  REQUIRE(slot_reporter::remove(redis, first).has_value());
  imports = store.totals(job_kind::imports).fleet;
  CHECK(imports.workers == before_imports.workers + 1);
  CHECK(imports.slots == before_imports.slots + 2);
  CHECK(store.totals(job_kind::exports).fleet.workers == before_exports.workers);

  REQUIRE(slot_reporter::remove(redis, second).has_value());
  CHECK(store.totals(job_kind::imports).fleet.workers == before_imports.workers);
}

TEST_CASE("slot report of silent worker lapses", "[redis][job_store][slots]") {
  using jobgate::worker::slot_reporter;
  using jobgate::worker_slots::kind_slots;
  async_store store;
  auto redis = connect_sync();
  const auto before = store.totals(job_kind::imports).fleet;
  const std::string silent = jobgate::test::unique_name("worker-silent");
  const std::string live = jobgate::test::unique_name("worker-live");
  const std::vector<kind_slots> slots{{job_kind::imports, 3, 1}};

  REQUIRE(slot_reporter::report(redis, silent, slots, std::chrono::milliseconds(200)).has_value());
  CHECK(store.totals(job_kind::imports).fleet.workers == before.workers + 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // Lapsed reports are left out at once, and the next report of any worker deletes them.
  CHECK(store.totals(job_kind::imports).fleet.workers == before.workers);
  auto stored = redis.command("HEXISTS", store_keys::worker_slots, silent);
  REQUIRE(stored.has_value());
  CHECK(stored->integer() == 1);
  REQUIRE(slot_reporter::report(redis, live, slots, std::chrono::minutes(1)).has_value());
  stored = redis.command("HEXISTS", store_keys::worker_slots, silent);
  REQUIRE(stored.has_value());
  CHECK(stored->integer() == 0);
  auto lapse = redis.command("ZSCORE", store_keys::worker_slot_lapses, silent);
  REQUIRE(lapse.has_value());
  CHECK(lapse->is_nil());
  REQUIRE(slot_reporter::remove(redis, live).has_value());
}

TEST_CASE("slot reporter removes its report on stop", "[redis][job_store][slots]") {
  using jobgate::worker_slots::kind_slots;
  async_store store;
  const auto before = store.totals(job_kind::exports).fleet;
  std::atomic<int> busy{0};
  jobgate::worker::slot_reporter reporter(
      *redis::parse_redis_url(jobgate::test::shared_redis_url()),
      jobgate::test::unique_name("worker-run"),
      [&busy] {
        return std::vector<kind_slots>{{job_kind::exports, 2, busy.load()}};
      },
      std::chrono::milliseconds(100));
  std::atomic<bool> stopping{false};
  std::thread reporting([&] { reporter.run(stopping); });

  const auto wait_for = [&](auto condition) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!condition(store.totals(job_kind::exports).fleet) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return condition(store.totals(job_kind::exports).fleet);
  };
  CHECK(wait_for([&](const auto& fleet) {
    return fleet.workers == before.workers + 1 && fleet.slots == before.slots + 2;
  }));
  busy = 2;
  CHECK(wait_for([&](const auto& fleet) { return fleet.busy == before.busy + 2; }));

  stopping = true;
  reporting.join();
  const auto after = store.totals(job_kind::exports).fleet;
  CHECK(after.workers == before.workers);
  CHECK(after.slots == before.slots);
}
