#include "gateway/job_read_cache.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "common/clock.hpp"
#include "common/jobs/job.hpp"
#include "common/jobs/store_keys.hpp"
#include "common/redis/async_connection.hpp"
#include "common/redis/connection.hpp"
#include "common/redis/redis_endpoint.hpp"
#include "gateway/job_change_feed.hpp"
#include "gateway/redis_job_repository.hpp"
#include "redis_test_server.hpp"

namespace {

namespace asio = boost::asio;
namespace redis = jobgate::redis;
namespace store_keys = jobgate::store_keys;
using jobgate::job_kind;
using jobgate::job_record;
using jobgate::job_status;
using jobgate::gateway::job_change_feed;
using jobgate::gateway::job_read_cache;
using jobgate::gateway::redis_job_repository;

redis::redis_endpoint endpoint_of(const jobgate::test::redis_test_server& server) {
  auto parsed = redis::parse_redis_url(server.url());
  REQUIRE(parsed.has_value());
  return *parsed;
}

// The gateway's read path on a Redis of its own: the job read cache, the change feed that keeps
// it current and the repository that fills it, with one io thread.
class cached_reads {
 public:
  explicit cached_reads(const jobgate::test::redis_test_server& server,
                        std::chrono::milliseconds max_age = std::chrono::minutes(1))
      : cache_(1000, max_age),
        work_(asio::make_work_guard(io_)),
        connection_(io_.get_executor(), endpoint_of(server)),
        repository_(connection_, std::chrono::minutes(1), &cache_),
        feed_(endpoint_of(server), {}, &cache_),
        thread_([this] { io_.run(); }) {
    auto connected = asio::co_spawn(io_, connection_.async_connect(), asio::use_future);
    REQUIRE(connected.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    REQUIRE(connected.get().has_value());
    feed_.start();
  }

  ~cached_reads() {
    feed_.stop();
    connection_.close();
    work_.reset();
    io_.stop();
    thread_.join();
  }

  cached_reads(const cached_reads&) = delete;
  cached_reads& operator=(const cached_reads&) = delete;

  std::optional<job_record> read(const std::string& id) {
    auto future = asio::co_spawn(io_, repository_.read_status(id), asio::use_future);
    REQUIRE(future.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    auto found = future.get();
    REQUIRE(found.has_value());
    if (!*found) {
      return std::nullopt;
    }
    return (*found)->job();
  }

  bool create(const job_record& job) {
    auto future = asio::co_spawn(io_, repository_.create(job), asio::use_future);
    REQUIRE(future.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    auto created = future.get();
    REQUIRE(created.has_value());
    return *created;
  }

  // Runs change() while a long poll waits for the job, and returns whether the poll was woken
  // by a change within `limit`.
  bool wakes_long_poll(const std::string& id, const std::function<void()>& change,
                       std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto watch = feed_.watch_job(id, io_.get_executor());
    auto woken = asio::co_spawn(io_, watch->wait(limit), asio::use_future);
    change();
    REQUIRE(woken.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    return woken.get();
  }

  job_read_cache& cache() { return cache_; }

 private:
  job_read_cache cache_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  redis::async_connection connection_;
  redis_job_repository repository_;
  job_change_feed feed_;
  std::thread thread_;
};

job_record make_job() {
  job_record job;
  job.id = jobgate::job_id::generate(job_kind::exports).str();
  job.tenant = "cache-tenant";
  job.kind = job_kind::exports;
  job.status = job_status::pending;
  job.name = "weekly contacts";
  job.object_type = "contacts";
  job.created_at = jobgate::now_millis();
  job.updated_at = job.created_at;
  job.request_json = R"({"objectType":"contacts"})";
  job.result_format = "csv";
  return job;
}

// Polls until done() returns true or five seconds passed.
bool eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// Reads the job until the read comes from the cache, which needs the feed subscribed first.
void read_until_cached(cached_reads& reads, const std::string& id) {
  REQUIRE(eventually([&] {
    reads.read(id);
    return reads.cache().find(id) != nullptr;
  }));
}

// A Redis of its own with one job in it, cached by a status read, and a plain connection that
// changes Redis behind the cache's back.
struct cached_job {
  jobgate::test::redis_test_server server;
  cached_reads reads{server};
  redis::connection writer = connect(server);
  job_record job = make_job();

  cached_job() {
    REQUIRE(reads.create(job));
    read_until_cached(reads, job.id);
  }

  static redis::connection connect(const jobgate::test::redis_test_server& server) {
    auto connected = redis::connection::connect(endpoint_of(server));
    REQUIRE(connected.has_value());
    return std::move(*connected);
  }
};

}  // namespace

TEST_CASE("job read cache serves a second read without Redis", "[redis][job_cache]") {
  cached_job setup;
  auto& [server, reads, writer, job] = setup;
  auto before = writer.command("INFO", "commandstats");
  REQUIRE(before.has_value());
  const std::string stats_before(before->text());

  const auto hits = reads.cache().hits();
  const auto found = reads.read(job.id);
  REQUIRE(found.has_value());
  CHECK(found->id == job.id);
  CHECK(found->status == job_status::pending);
  CHECK(found->name == job.name);
  // A status read renders neither the queue message nor the request body, so neither is kept.
  CHECK(found->request_json.empty());
  CHECK(reads.cache().hits() == hits + 1);

  auto after = writer.command("INFO", "commandstats");
  REQUIRE(after.has_value());
  const auto hgetall_calls = [](std::string_view stats) {
    const auto at = stats.find("cmdstat_hgetall:calls=");
    return at == std::string_view::npos ? std::string_view{}
                                        : stats.substr(at, stats.find(',', at) - at);
  };
  CHECK(hgetall_calls(after->text()) == hgetall_calls(stats_before));
}

TEST_CASE("job read cache drops a job that another client changes", "[redis][job_cache]") {
  cached_job setup;
  auto& [server, reads, writer, job] = setup;

  SECTION("a plain write") {
    // No script and no job-changes message: only Redis's invalidation can report it.
    REQUIRE(writer.command("HSET", store_keys::job(job.id), "status", "PROCESSING").has_value());
    CHECK(eventually([&] { return reads.cache().find(job.id) == nullptr; }));
    const auto found = reads.read(job.id);
    REQUIRE(found.has_value());
    CHECK(found->status == job_status::processing);
  }

  SECTION("expiry") {
    REQUIRE(writer.command("PEXPIRE", store_keys::job(job.id), 50).has_value());
    CHECK(eventually([&] { return !reads.read(job.id).has_value(); }));
  }

  SECTION("FLUSHALL") {
    REQUIRE(writer.command("FLUSHALL").has_value());
    CHECK(eventually([&] { return reads.cache().find(job.id) == nullptr; }));
    CHECK_FALSE(reads.read(job.id).has_value());
  }
}

TEST_CASE("job read cache entry lapses with its key", "[redis][job_cache]") {
  cached_job setup;
  auto& [server, reads, writer, job] = setup;
  // Without active expiry Redis deletes an expired key only when a command touches it, so no
  // invalidation comes when the time to live runs out.
  REQUIRE(writer.command("DEBUG", "SET-ACTIVE-EXPIRE", "0").value().is_status());
  REQUIRE(writer.command("PEXPIRE", store_keys::job(job.id), 400).value().integer() == 1);
  read_until_cached(reads, job.id);
  std::this_thread::sleep_for(std::chrono::milliseconds(450));
  CHECK(reads.cache().find(job.id) == nullptr);
  CHECK_FALSE(reads.read(job.id).has_value());
}

TEST_CASE("change by another client ends a long poll", "[redis][job_cache]") {
  cached_job setup;
  auto& [server, reads, writer, job] = setup;
  const std::string key = store_keys::job(job.id);

  SECTION("a plain write") {
    CHECK(reads.wakes_long_poll(
        job.id, [&] { REQUIRE(writer.command("HSET", key, "status", "CANCELED").has_value()); }));
    CHECK(reads.read(job.id)->status == job_status::canceled);
  }
  SECTION("a deletion") {
    CHECK(reads.wakes_long_poll(
        job.id, [&] { REQUIRE(writer.command("DEL", key).value().integer() == 1); }));
    CHECK_FALSE(reads.read(job.id).has_value());
  }
  SECTION("FLUSHALL") {
    CHECK(reads.wakes_long_poll(job.id, [&] { REQUIRE(writer.command("FLUSHALL").has_value()); }));
  }
  SECTION("a change of the job's list of rejected rows") {
    // Not part of the job's record: the poll runs out.
    CHECK_FALSE(reads.wakes_long_poll(
        job.id,
        [&] { REQUIRE(writer.command("RPUSH", store_keys::job_errors(job.id), "{}").has_value()); },
        std::chrono::seconds(1)));
    CHECK(reads.cache().find(job.id) != nullptr);
  }
}

TEST_CASE("job read cache empties when the feed connection drops", "[redis][job_cache]") {
  cached_job setup;
  auto& [server, reads, writer, job] = setup;

  // Redis sends the invalidations of the reconnect gap to no connection, so nothing cached before
  // the drop may serve reads.
  auto killed = writer.command("CLIENT", "KILL", "TYPE", "pubsub");
  REQUIRE(killed.has_value());
  REQUIRE(killed->integer() == 1);
  CHECK(eventually([&] { return reads.cache().find(job.id) == nullptr; }));
  REQUIRE(writer.command("HSET", store_keys::job(job.id), "status", "CANCELED").has_value());

  const auto found = reads.read(job.id);
  REQUIRE(found.has_value());
  CHECK(found->status == job_status::canceled);
  // Once subscribed again, reads fill the cache again.
  read_until_cached(reads, job.id);
  CHECK(reads.cache().find(job.id)->job().status == job_status::canceled);
}

TEST_CASE("job read cache entry is read again after its maximum age", "[redis][job_cache]") {
  jobgate::test::redis_test_server server;
  cached_reads reads(server, std::chrono::milliseconds(200));
  const job_record job = make_job();
  REQUIRE(reads.create(job));
  read_until_cached(reads, job.id);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  CHECK(reads.cache().find(job.id) == nullptr);
}
