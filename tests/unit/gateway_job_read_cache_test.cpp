#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "common/jobs/store_keys.hpp"
#include "gateway/job_read_cache.hpp"

using jobgate::job_record;
using jobgate::job_status;
namespace store_keys = jobgate::store_keys;
using jobgate::gateway::job_read_cache;

namespace {

job_record job_with_id(const std::string& id) {
  job_record job;
  job.id = id;
  job.tenant = "acme";
  job.status = job_status::processing;
  job.message = R"({"jobId":")" + id + R"("})";
  job.request_json = R"({"objectType":"contacts"})";
  return job;
}

// Loads a job through the cache as a status read does, with nothing in between.
void load(job_read_cache& cache, const job_record& job,
          std::optional<std::chrono::milliseconds> time_to_live = std::nullopt) {
  const auto ticket = cache.begin_load(job.id);
  cache.finish_load(job.id, ticket, job, time_to_live);
}

}  // namespace

TEST_CASE("job read cache stores nothing before tracking starts", "[gateway][job_cache]") {
  job_read_cache cache(100, std::chrono::minutes(1));
  const auto ticket = cache.begin_load("exp_1");
  CHECK(ticket.reservation == 0);
  cache.finish_load("exp_1", ticket, job_with_id("exp_1"), std::nullopt);
  CHECK(cache.find("exp_1") == nullptr);
  CHECK(cache.size() == 0);
}

TEST_CASE("job read cache serves a loaded job until it is invalidated", "[gateway][job_cache]") {
  job_read_cache cache(100, std::chrono::minutes(1));
  cache.tracking_started();
  CHECK(cache.begin_load("exp_1").reservation != 0);
  load(cache, job_with_id("exp_1"));

  const auto cached = cache.find("exp_1");
  REQUIRE(cached != nullptr);
  CHECK(cached->job().status == job_status::processing);
  CHECK(cached->job().message.empty());
  CHECK(cached->job().request_json.empty());
  CHECK(cache.hits() == 1);

  SECTION("by its id") {
    cache.invalidate_job("exp_1");
  }
  SECTION("by a flush") {
    cache.invalidate_all();
  }
  SECTION("by the end of tracking") {
    cache.tracking_lost();
  }
  CHECK(cache.find("exp_1") == nullptr);
  CHECK(cache.misses() == 1);
}

TEST_CASE("job id of a Redis key", "[gateway][job_cache]") {
  CHECK(store_keys::job_id_of("jg:job:exp_1") == "exp_1");
  CHECK(store_keys::job_id_of(store_keys::job("imp_2")) == "imp_2");
  CHECK(store_keys::job_id_of("jg:jobs:exp_1").empty());
  CHECK(store_keys::job_id_of("exp_1").empty());
  // A job's list of rejected rows shares the prefix but is not part of its record.
  CHECK(store_keys::job_id_of(store_keys::job_errors("exp_1")).empty());
}

TEST_CASE("job read cache drops a load that a change overtook", "[gateway][job_cache]") {
  job_read_cache cache(100, std::chrono::minutes(1));
  cache.tracking_started();
  const auto ticket = cache.begin_load("exp_1");

  SECTION("an invalidation of the job") {
    cache.invalidate_job("exp_1");
  }
  SECTION("the end of tracking and a new start") {
    cache.tracking_lost();
    cache.tracking_started();
  }
  SECTION("a later load of the same job") {
    cache.begin_load("exp_1");
  }
  cache.finish_load("exp_1", ticket, job_with_id("exp_1"), std::nullopt);
  CHECK(cache.find("exp_1") == nullptr);
}

TEST_CASE("job read cache keeps no deferred job", "[gateway][job_cache]") {
  job_read_cache cache(100, std::chrono::minutes(1));
  cache.tracking_started();
  job_record waiting = job_with_id("imp_1");
  waiting.status = job_status::pending;
  waiting.deferred_cap = 2;
  waiting.queue_position = 3;
  load(cache, waiting);
  CHECK(cache.find("imp_1") == nullptr);

  // A pending job that waits for a worker only has nothing outside its key.
  waiting.deferred_cap = 0;
  waiting.queue_position = 0;
  load(cache, waiting);
  CHECK(cache.find("imp_1") != nullptr);
}

TEST_CASE("job read cache reloads an entry older than its maximum age", "[gateway][job_cache]") {
  job_read_cache cache(100, std::chrono::milliseconds(20));
  cache.tracking_started();
  load(cache, job_with_id("exp_1"));
  CHECK(cache.find("exp_1") != nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  CHECK(cache.find("exp_1") == nullptr);
}

TEST_CASE("job read cache entry lapses with its key", "[gateway][job_cache]") {
  job_read_cache cache(100, std::chrono::minutes(1));
  cache.tracking_started();
  load(cache, job_with_id("exp_1"), std::chrono::milliseconds(20));
  CHECK(cache.find("exp_1") != nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  CHECK(cache.find("exp_1") == nullptr);

  // A key that is gone by the time its life was read is not stored at all.
  load(cache, job_with_id("exp_2"), std::chrono::milliseconds(0));
  CHECK(cache.find("exp_2") == nullptr);
}

TEST_CASE("job read cache holds at most its entry limit", "[gateway][job_cache]") {
  job_read_cache cache(32, std::chrono::minutes(1));
  cache.tracking_started();
  for (int i = 0; i < 1000; ++i) {
    load(cache, job_with_id("exp_" + std::to_string(i)));
  }
  CHECK(cache.size() <= 32);
  CHECK(cache.size() > 0);
  CHECK(cache.find("exp_999") != nullptr);
}

TEST_CASE("job read cache with no entries is off", "[gateway][job_cache]") {
  job_read_cache cache(0, std::chrono::minutes(1));
  cache.tracking_started();
  CHECK_FALSE(cache.enabled());
  load(cache, job_with_id("exp_1"));
  CHECK(cache.find("exp_1") == nullptr);
}

TEST_CASE("job read cache shares the stored snapshot", "[gateway][job_cache]") {
  job_read_cache cache(100, std::chrono::minutes(1));
  cache.tracking_started();
  const auto ticket = cache.begin_load("exp_1");
  const auto loaded = cache.finish_load("exp_1", ticket, job_with_id("exp_1"), std::nullopt);
  REQUIRE(loaded != nullptr);
  CHECK(cache.find("exp_1") == loaded);
  CHECK(cache.find("exp_1") == loaded);

  SECTION("a load whose reservation was dropped still returns its record") {
    const auto second = cache.begin_load("exp_1");
    cache.invalidate_job("exp_1");
    const auto late = cache.finish_load("exp_1", second, job_with_id("exp_1"), std::nullopt);
    REQUIRE(late != nullptr);
    CHECK(late->job().id == "exp_1");
    CHECK(cache.find("exp_1") == nullptr);
  }
}

TEST_CASE("job snapshot renders its body once per base URL", "[gateway][job_cache]") {
  const jobgate::gateway::job_snapshot snapshot(job_with_id("exp_1"));
  int renders = 0;
  const auto render_for = [&](const std::string& base_url) {
    return snapshot.body(base_url, [&] {
      ++renders;
      return base_url + "/v1/jobs/" + snapshot.job().id;
    });
  };

  const auto first = render_for("http://a.example");
  CHECK(*first == "http://a.example/v1/jobs/exp_1");
  CHECK(render_for("http://a.example") == first);
  CHECK(renders == 1);

  // Another host gets its own links, and the snapshot then keeps that body.
  CHECK(*render_for("http://b.example") == "http://b.example/v1/jobs/exp_1");
  CHECK(renders == 2);
  CHECK(*render_for("http://a.example") == "http://a.example/v1/jobs/exp_1");
  CHECK(renders == 3);
  // A body handed out earlier stays valid after the snapshot moved on to another base URL.
  CHECK(*first == "http://a.example/v1/jobs/exp_1");
}
