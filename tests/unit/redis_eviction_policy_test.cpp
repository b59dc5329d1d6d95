#include <catch2/catch.hpp>
#include <string>

#include "common/redis/eviction_policy.hpp"

using jobgate::redis::eviction_policy;

TEST_CASE("eviction policy parses info memory", "[redis][eviction]") {
  const std::string info =
      "# Memory\r\n"
      "used_memory:1053152\r\n"
      "maxmemory:0\r\n"
      "maxmemory_human:0B\r\n"
      "maxmemory_policy:allkeys-lru\r\n"
      "allocator_frag_ratio:1.00\r\n";
  CHECK(eviction_policy::parse_info(info) == "allkeys-lru");
  CHECK(eviction_policy::parse_info("maxmemory_policy:noeviction") == "noeviction");
  CHECK(eviction_policy::parse_info("maxmemory_policy:volatile-ttl\n") == "volatile-ttl");
}

TEST_CASE("eviction policy info without field", "[redis][eviction]") {
  CHECK(eviction_policy::parse_info("").empty());
  CHECK(eviction_policy::parse_info("# Memory\r\nmaxmemory:0\r\n").empty());
  // A field whose name only starts the same way is another field.
  CHECK(eviction_policy::parse_info("xmaxmemory_policy:allkeys-lru\r\n").empty());
}

TEST_CASE("eviction policy accepts only noeviction", "[redis][eviction]") {
  const eviction_policy keeping("noeviction");
  CHECK(keeping.keeps_keys());
  CHECK(keeping.problem().empty());

  for (const char* name : {"allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru",
                           "volatile-lfu", "volatile-random", "volatile-ttl"}) {
    const eviction_policy evicting(name);
    INFO("policy " << name);
    CHECK_FALSE(evicting.keeps_keys());
    const std::string problem = evicting.problem();
    CHECK(problem.find(std::string("Redis maxmemory-policy is ") + name) != std::string::npos);
    CHECK(problem.find("Set maxmemory-policy noeviction") != std::string::npos);
  }
}

TEST_CASE("eviction policy unknown is problem", "[redis][eviction]") {
  const eviction_policy unknown;
  CHECK_FALSE(unknown.is_known());
  CHECK_FALSE(unknown.keeps_keys());
  const std::string problem = unknown.problem();
  CHECK(problem.find("CONFIG GET maxmemory-policy") != std::string::npos);
  CHECK(problem.find("INFO memory") != std::string::npos);
}

TEST_CASE("eviction policy queries config first", "[redis][eviction]") {
  const auto commands = eviction_policy::queries();
  REQUIRE(commands.size() == 2);
  CHECK(commands[0].name() == "CONFIG");
  CHECK(commands[0][2] == "maxmemory-policy");
  CHECK(commands[1].name() == "INFO");
}

TEST_CASE("eviction policy without replies unknown", "[redis][eviction]") {
  CHECK_FALSE(eviction_policy::from_replies({}).is_known());
}
