#include "gateway/gateway_config.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/crypto/sha256.hpp"

namespace {

using jobgate::settings_reader;
using jobgate::gateway::gateway_config;
using jobgate::gateway::limit_kind;
using jobgate::gateway::policy_for;
using jobgate::gateway::read_gateway_config;

const char* no_environment(const char*) {
  return nullptr;
}

const std::string valid_secret(32, 's');

// Returns the values of the two settings without a default, for environment lookups in tests.
const char* required_variable(std::string_view name) {
  if (name == "JOBGATE_API_KEYS") {
    return "key1=tenant1";
  }
  if (name == "JOBGATE_SIGNING_SECRET") {
    return "ssssssssssssssssssssssssssssssss";
  }
  return nullptr;
}

struct read_outcome {
  gateway_config config;
  std::vector<std::string> errors;
};

// Reads the gateway settings from flags only. The two settings without a default are added
// unless the test passes its own.
read_outcome read_with(std::vector<std::string> flags, bool add_required = true) {
  if (add_required) {
    flags.push_back("--api-keys=key1=tenant1");
    flags.push_back("--signing-secret=" + valid_secret);
  }
  std::vector<const char*> argv = {"jobgate-gateway"};
  for (const auto& flag : flags) {
    argv.push_back(flag.c_str());
  }
  settings_reader reader(static_cast<int>(argv.size()), argv.data(), no_environment);
  read_outcome outcome;
  outcome.config = read_gateway_config(reader);
  outcome.errors = reader.errors();
  return outcome;
}

// Checks that reading one flag fails with exactly one message that names the setting.
void check_rejected(const std::string& flag, const std::string& setting) {
  const auto outcome = read_with({flag});
  INFO("flag " << flag);
  REQUIRE(outcome.errors.size() == 1);
  CHECK(outcome.errors[0].find("--" + setting + " (") != std::string::npos);
}

}  // namespace

TEST_CASE("gateway config defaults match struct", "[config][gateway]") {
  const auto outcome = read_with({});
  REQUIRE(outcome.errors.empty());
  const gateway_config defaults;
  const gateway_config& read = outcome.config;
  CHECK(read.http_address == defaults.http_address);
  CHECK(read.http_port == defaults.http_port);
  CHECK(read.threads == defaults.threads);
  CHECK(read.public_url == defaults.public_url);
  CHECK(read.redis_url == defaults.redis_url);
  CHECK(read.kafka_brokers == defaults.kafka_brokers);
  CHECK(read.blob_dir == defaults.blob_dir);
  CHECK(read.limits.max_upload_bytes == defaults.limits.max_upload_bytes);
  CHECK(read.max_json_bytes == defaults.max_json_bytes);
  CHECK(read.idle_timeout_seconds == defaults.idle_timeout_seconds);
  CHECK(read.header_timeout_seconds == defaults.header_timeout_seconds);
  CHECK(read.body_idle_timeout_seconds == defaults.body_idle_timeout_seconds);
  CHECK(read.produce_timeout_ms == defaults.produce_timeout_ms);
  CHECK(read.download_link_ttl_seconds == defaults.download_link_ttl_seconds);
  CHECK(read.job_retention_hours == defaults.job_retention_hours);
  for (const auto& field : jobgate::tenants::limit_fields()) {
    CHECK(read.limits.*field.member == defaults.limits.*field.member);
  }
  CHECK(read.log_format == defaults.log_format);
  CHECK(read.log_level == defaults.log_level);
}

TEST_CASE("gateway config documented defaults", "[config][gateway]") {
  const gateway_config defaults;
  CHECK(defaults.http_address == "0.0.0.0");
  CHECK(defaults.http_port == 8080);
  CHECK(defaults.threads == 2);
  CHECK(defaults.public_url.empty());
  CHECK(defaults.redis_url == "redis://127.0.0.1:6379");
  CHECK(defaults.kafka_brokers == "127.0.0.1:9092");
  CHECK(defaults.blob_dir == "/var/lib/jobgate/blobs");
  CHECK(defaults.api_keys.empty());
  CHECK(defaults.signing_secret.empty());
  CHECK(defaults.limits.max_upload_bytes == 1024LL * 1024 * 1024);
  CHECK(defaults.max_json_bytes == 1024 * 1024);
  CHECK(defaults.idle_timeout_seconds == 60);
  CHECK(defaults.header_timeout_seconds == 10);
  CHECK(defaults.body_idle_timeout_seconds == 30);
  CHECK(defaults.produce_timeout_ms == 10000);
  CHECK(defaults.download_link_ttl_seconds == 300);
  CHECK(defaults.job_retention_hours == 72);
  CHECK(defaults.limits.submit_rate_limit == 10);
  CHECK(defaults.limits.submit_burst == 100);
  CHECK(defaults.limits.read_rate_limit == 50);
  CHECK(defaults.limits.read_burst == 500);
  CHECK(defaults.limits.max_rows_per_file == 1'048'576);
  CHECK(defaults.limits.rows_per_day == 10'000'000);
  CHECK(defaults.limits.exports_per_day == 1'000);
  CHECK(defaults.log_format == jobgate::log::output_format::text);
  CHECK(defaults.log_level == jobgate::log::level::info);
}

TEST_CASE("gateway config reads every setting", "[config][gateway]") {
  const auto outcome = read_with(
      {"--http-address=127.0.0.1", "--http-port=0", "--threads=4",
       "--public-url=https://jobs.example.com", "--redis-url=redis://127.0.0.1:7000",
       "--kafka-brokers=127.0.0.1:9093", "--blob-dir=/tmp/blobs", "--max-upload-bytes=2048",
       "--max-json-bytes=4096", "--idle-timeout=5", "--header-timeout=3", "--body-idle-timeout=7",
       "--produce-timeout=250", "--download-link-ttl=60", "--job-retention=1", "--log-format=json",
       "--log-level=debug"});
  REQUIRE(outcome.errors.empty());
  const auto& config = outcome.config;
  CHECK(config.http_address == "127.0.0.1");
  CHECK(config.http_port == 0);
  CHECK(config.threads == 4);
  CHECK(config.public_url == "https://jobs.example.com");
  CHECK(config.redis_url == "redis://127.0.0.1:7000");
  CHECK(config.kafka_brokers == "127.0.0.1:9093");
  CHECK(config.blob_dir == "/tmp/blobs");
  CHECK(config.limits.max_upload_bytes == 2048);
  CHECK(config.max_json_bytes == 4096);
  CHECK(config.idle_timeout_seconds == 5);
  CHECK(config.header_timeout_seconds == 3);
  CHECK(config.body_idle_timeout_seconds == 7);
  CHECK(config.produce_timeout_ms == 250);
  CHECK(config.download_link_ttl_seconds == 60);
  CHECK(config.job_retention_hours == 1);
  CHECK(config.log_format == jobgate::log::output_format::json);
  CHECK(config.log_level == jobgate::log::level::debug);
  CHECK(config.signing_secret == valid_secret);
  REQUIRE(config.api_keys.size() == 1);
  CHECK(config.api_keys.at(jobgate::crypto::sha256_hex("key1")) == "tenant1");
}

TEST_CASE("gateway config api keys", "[config][gateway]") {
  const auto outcome = read_with(
      {"--api-keys=alpha=tenant-a, beta=tenant-b", "--signing-secret=" + valid_secret}, false);
  REQUIRE(outcome.errors.empty());
  REQUIRE(outcome.config.api_keys.size() == 2);
  CHECK(outcome.config.api_keys.at(jobgate::crypto::sha256_hex("alpha")) == "tenant-a");
  CHECK(outcome.config.api_keys.at(jobgate::crypto::sha256_hex("beta")) == "tenant-b");
}

TEST_CASE("gateway config requires api keys", "[config][gateway]") {
  const auto outcome = read_with({"--signing-secret=" + valid_secret}, false);
  REQUIRE(outcome.errors.size() == 1);
  CHECK(outcome.errors[0].find("--api-keys (JOBGATE_API_KEYS)") != std::string::npos);
  CHECK(outcome.errors[0].find("at least one key=tenant pair") != std::string::npos);
}

TEST_CASE("gateway config malformed api key", "[config][gateway]") {
  const std::string entry = GENERATE("novalue", "=tenant", "key=");
  const auto outcome =
      read_with({"--api-keys=good=t1," + entry, "--signing-secret=" + valid_secret}, false);
  INFO("entry " << entry);
  REQUIRE(outcome.errors.size() == 1);
  CHECK(outcome.errors[0].find("--api-keys (JOBGATE_API_KEYS)") != std::string::npos);
  CHECK(outcome.config.api_keys.size() == 1);
}

TEST_CASE("gateway config plain tenant names", "[config][gateway]") {
  const std::string tenant =
      GENERATE(as<std::string>{}, "a b", "a/b", "a:b", "tenant\n", std::string(65, 't'));
  const auto outcome =
      read_with({"--api-keys=key=" + tenant, "--signing-secret=" + valid_secret}, false);
  INFO("tenant '" << tenant << "'");
  // The rejected entry leaves no key, so the missing-key message follows it.
  REQUIRE(outcome.errors.size() == 2);
  CHECK(outcome.errors[0].find("--api-keys (JOBGATE_API_KEYS)") != std::string::npos);
  CHECK(outcome.errors[0].find("'" + tenant + "'") != std::string::npos);
  CHECK(outcome.config.api_keys.empty());
}

TEST_CASE("gateway config short signing secret", "[config][gateway]") {
  const auto outcome =
      read_with({"--api-keys=k=t", "--signing-secret=" + std::string(31, 's')}, false);
  REQUIRE(outcome.errors.size() == 1);
  CHECK(outcome.errors[0].find("--signing-secret (JOBGATE_SIGNING_SECRET)") != std::string::npos);
  CHECK(outcome.errors[0].find("32 characters") != std::string::npos);
}

TEST_CASE("gateway config rejects bad values", "[config][gateway]") {
  check_rejected("--http-port=65536", "http-port");
  check_rejected("--http-port=-1", "http-port");
  check_rejected("--http-port=eighty", "http-port");
  check_rejected("--threads=0", "threads");
  check_rejected("--threads=65", "threads");
  check_rejected("--max-upload-bytes=1023", "max-upload-bytes");
  check_rejected("--max-json-bytes=67108865", "max-json-bytes");
  check_rejected("--idle-timeout=0", "idle-timeout");
  check_rejected("--idle-timeout=3601", "idle-timeout");
  check_rejected("--header-timeout=0", "header-timeout");
  check_rejected("--header-timeout=3601", "header-timeout");
  check_rejected("--body-idle-timeout=0", "body-idle-timeout");
  check_rejected("--body-idle-timeout=3601", "body-idle-timeout");
  check_rejected("--produce-timeout=99", "produce-timeout");
  check_rejected("--produce-timeout=300001", "produce-timeout");
  check_rejected("--download-link-ttl=9", "download-link-ttl");
  check_rejected("--job-retention=0", "job-retention");
  check_rejected("--job-retention=8761", "job-retention");
  check_rejected("--log-format=yaml", "log-format");
  check_rejected("--log-level=trace", "log-level");
  check_rejected("--submit-rate-limit=-1", "submit-rate-limit");
  check_rejected("--submit-rate-limit=1000001", "submit-rate-limit");
  check_rejected("--submit-rate-limit=1.5", "submit-rate-limit");
  check_rejected("--submit-burst=0", "submit-burst");
  check_rejected("--read-rate-limit=-1", "read-rate-limit");
  check_rejected("--read-burst=0", "read-burst");
  check_rejected("--read-burst=1000001", "read-burst");
}

TEST_CASE("gateway config rate limits", "[config][gateway][ratelimit]") {
  const auto outcome = read_with(
      {"--submit-rate-limit=20", "--submit-burst=5", "--read-rate-limit=0", "--read-burst=7"});
  REQUIRE(outcome.errors.empty());
  const auto submit = policy_for(outcome.config.limits, limit_kind::submit);
  const auto read = policy_for(outcome.config.limits, limit_kind::read);
  CHECK(submit.rate_per_second == 20);
  CHECK(submit.burst == 5);
  CHECK(submit.enabled());
  CHECK(read.rate_per_second == 0);
  CHECK(read.burst == 7);
  CHECK_FALSE(read.enabled());

  const std::string text = describe(outcome.config);
  CHECK(text.find("submit-rate-limit=20 submit-burst=5 read-rate-limit=0 read-burst=7") !=
        std::string::npos);
}

TEST_CASE("gateway config rate limits from environment", "[config][gateway][ratelimit]") {
  const auto environment = [](const char* name) -> const char* {
    const std::string_view wanted(name);
    if (wanted == "JOBGATE_SUBMIT_RATE_LIMIT") {
      return "0";
    }
    if (wanted == "JOBGATE_READ_BURST") {
      return "1000";
    }
    return required_variable(wanted);
  };
  const char* argv[] = {"jobgate-gateway"};
  settings_reader reader(1, argv, environment);
  const auto config = read_gateway_config(reader);
  REQUIRE(reader.errors().empty());
  CHECK(config.limits.submit_rate_limit == 0);
  CHECK(config.limits.read_rate_limit == 50);
  CHECK(config.limits.read_burst == 1000);
}

TEST_CASE("gateway config unknown flag", "[config][gateway]") {
  const auto outcome = read_with({"--http-prot=80"});
  REQUIRE(outcome.errors.size() == 1);
  CHECK(outcome.errors[0] == "unknown flag --http-prot");
}

TEST_CASE("gateway config describe masks secret", "[config][gateway]") {
  const auto outcome = read_with({});
  REQUIRE(outcome.errors.empty());
  const std::string text = describe(outcome.config);
  CHECK(text.find(valid_secret) == std::string::npos);
  CHECK(text.find("signing_secret=(32 characters)") != std::string::npos);
  CHECK(text.find("key1") == std::string::npos);
  CHECK(text.find("api_keys=1") != std::string::npos);

  const auto with_password = read_with({"--redis-url=redis://:hunter2@redis.internal:6380/1"});
  REQUIRE(with_password.errors.empty());
  const std::string masked = describe(with_password.config);
  CHECK(masked.find("hunter2") == std::string::npos);
  CHECK(masked.find("redis=redis://:***@redis.internal:6380/1") != std::string::npos);
}

TEST_CASE("gateway config keeps key digests", "[config][gateway]") {
  const std::string digest = jobgate::crypto::sha256_hex("secret-key");
  std::string upper = digest;
  for (auto& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  const auto outcome = read_with({"--api-keys=sha256:" + upper + "=tenant-a,plain=tenant-b",
                                  "--signing-secret=" + valid_secret},
                                 false);
  REQUIRE(outcome.errors.empty());
  CHECK(outcome.config.api_keys.at(digest) == "tenant-a");
  CHECK(outcome.config.api_keys.at(jobgate::crypto::sha256_hex("plain")) == "tenant-b");
  CHECK(outcome.config.api_keys.count("plain") == 0);

  const auto short_digest =
      read_with({"--api-keys=sha256:abc=tenant-a", "--signing-secret=" + valid_secret}, false);
  REQUIRE_FALSE(short_digest.errors.empty());
  CHECK(short_digest.errors[0].find("64 hex digits") != std::string::npos);
}

TEST_CASE("gateway config timeouts from environment", "[config][gateway]") {
  const auto environment = [](const char* name) -> const char* {
    const std::string_view wanted(name);
    if (wanted == "JOBGATE_HEADER_TIMEOUT") {
      return "4";
    }
    if (wanted == "JOBGATE_BODY_IDLE_TIMEOUT") {
      return "9";
    }
    return required_variable(wanted);
  };
  const char* argv[] = {"jobgate-gateway"};
  settings_reader reader(1, argv, environment);
  const gateway_config config = read_gateway_config(reader);
  REQUIRE(reader.errors().empty());
  CHECK(config.header_timeout_seconds == 4);
  CHECK(config.body_idle_timeout_seconds == 9);
}

TEST_CASE("gateway config describe lists timeouts", "[config][gateway]") {
  const auto outcome = read_with({"--header-timeout=3", "--body-idle-timeout=7"});
  REQUIRE(outcome.errors.empty());
  const std::string text = describe(outcome.config);
  CHECK(text.find("idle_timeout_seconds=60") != std::string::npos);
  CHECK(text.find("header_timeout_seconds=3") != std::string::npos);
  CHECK(text.find("body_idle_timeout_seconds=7") != std::string::npos);
}
