#include "worker/worker_config.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace {

using jobgate::job_kind;
using jobgate::settings_reader;
using jobgate::worker::read_worker_config;
using jobgate::worker::worker_config;

const char* no_environment(const char*) {
  return nullptr;
}

struct read_outcome {
  worker_config config;
  std::vector<std::string> errors;
};

read_outcome read_with(const std::vector<std::string>& flags) {
  std::vector<const char*> argv = {"jobgate-worker"};
  for (const auto& flag : flags) {
    argv.push_back(flag.c_str());
  }
  settings_reader reader(static_cast<int>(argv.size()), argv.data(), no_environment);
  read_outcome outcome;
  outcome.config = read_worker_config(reader);
  outcome.errors = reader.errors();
  return outcome;
}

void check_rejected(const std::string& flag, const std::string& setting) {
  const auto outcome = read_with({flag});
  INFO("flag " << flag);
  REQUIRE(outcome.errors.size() == 1);
  CHECK(outcome.errors[0].find("--" + setting + " (") != std::string::npos);
}

}  // namespace

TEST_CASE("worker config defaults match struct", "[config][worker]") {
  const auto outcome = read_with({});
  REQUIRE(outcome.errors.empty());
  const worker_config defaults;
  const worker_config& read = outcome.config;
  CHECK(read.kinds == defaults.kinds);
  CHECK(read.concurrency == defaults.concurrency);
  CHECK(read.redis_url == defaults.redis_url);
  CHECK(read.kafka_brokers == defaults.kafka_brokers);
  CHECK(read.group_prefix == defaults.group_prefix);
  CHECK(read.blob_dir == defaults.blob_dir);
  CHECK(read.batch_rows == defaults.batch_rows);
  CHECK(read.progress_interval_ms == defaults.progress_interval_ms);
  CHECK(read.job_retention_hours == defaults.job_retention_hours);
  CHECK(read.max_poll_interval_ms == defaults.max_poll_interval_ms);
  CHECK(read.slots_report_interval_ms == defaults.slots_report_interval_ms);
  CHECK(read.log_format == defaults.log_format);
  CHECK(read.log_level == defaults.log_level);
}

TEST_CASE("worker config documented defaults", "[config][worker]") {
  const worker_config defaults;
  CHECK(defaults.kinds == std::vector<job_kind>{job_kind::imports, job_kind::exports});
  CHECK(defaults.concurrency == 2);
  CHECK(defaults.redis_url == "redis://127.0.0.1:6379");
  CHECK(defaults.kafka_brokers == "127.0.0.1:9092");
  CHECK(defaults.group_prefix == "jobgate-workers");
  CHECK(defaults.blob_dir == "/var/lib/jobgate/blobs");
  CHECK(defaults.batch_rows == 500);
  CHECK(defaults.progress_interval_ms == 500);
  CHECK(defaults.job_retention_hours == 72);
  CHECK(defaults.max_poll_interval_ms == 1800000);
  CHECK(defaults.slots_report_interval_ms == 5000);
}

TEST_CASE("worker config reads every setting", "[config][worker]") {
  const auto outcome =
      read_with({"--kinds=exports", "--concurrency=8", "--redis-url=redis://127.0.0.1:7000",
                 "--kafka-brokers=127.0.0.1:9093", "--group-prefix=test-group",
                 "--blob-dir=/tmp/blobs", "--batch-rows=100", "--progress-interval=50",
                 "--job-retention=2", "--max-poll-interval=10000", "--slots-report-interval=250",
                 "--log-format=json", "--log-level=error"});
  REQUIRE(outcome.errors.empty());
  const auto& config = outcome.config;
  CHECK(config.kinds == std::vector<job_kind>{job_kind::exports});
  CHECK(config.concurrency == 8);
  CHECK(config.redis_url == "redis://127.0.0.1:7000");
  CHECK(config.kafka_brokers == "127.0.0.1:9093");
  CHECK(config.group_prefix == "test-group");
  CHECK(config.blob_dir == "/tmp/blobs");
  CHECK(config.batch_rows == 100);
  CHECK(config.progress_interval_ms == 50);
  CHECK(config.job_retention_hours == 2);
  CHECK(config.max_poll_interval_ms == 10000);
  CHECK(config.slots_report_interval_ms == 250);
  CHECK(config.log_format == jobgate::log::output_format::json);
  CHECK(config.log_level == jobgate::log::level::error);
}

TEST_CASE("worker config unknown kind", "[config][worker]") {
  const auto outcome = read_with({"--kinds=imports,reports"});
  REQUIRE(outcome.errors.size() == 1);
  CHECK(outcome.errors[0].find("--kinds (JOBGATE_KINDS)") != std::string::npos);
  CHECK(outcome.errors[0].find("'reports'") != std::string::npos);
  CHECK(outcome.config.kinds == std::vector<job_kind>{job_kind::imports});
}

TEST_CASE("worker config needs a kind", "[config][worker]") {
  const auto outcome = read_with({"--kinds= , "});
  REQUIRE(outcome.errors.size() == 1);
  CHECK(outcome.errors[0].find("--kinds (JOBGATE_KINDS)") != std::string::npos);
  CHECK(outcome.errors[0].find("at least one kind of work") != std::string::npos);
}

TEST_CASE("worker config rejects bad values", "[config][worker]") {
  check_rejected("--concurrency=0", "concurrency");
  check_rejected("--concurrency=65", "concurrency");
  check_rejected("--concurrency=two", "concurrency");
  check_rejected("--batch-rows=0", "batch-rows");
  check_rejected("--batch-rows=100001", "batch-rows");
  check_rejected("--progress-interval=49", "progress-interval");
  check_rejected("--progress-interval=60001", "progress-interval");
  check_rejected("--job-retention=0", "job-retention");
  check_rejected("--max-poll-interval=9999", "max-poll-interval");
  check_rejected("--max-poll-interval=86400001", "max-poll-interval");
  check_rejected("--slots-report-interval=99", "slots-report-interval");
  check_rejected("--slots-report-interval=60001", "slots-report-interval");
  check_rejected("--log-level=loud", "log-level");
}

TEST_CASE("worker config describe lists kinds", "[config][worker]") {
  const auto outcome = read_with({"--kinds=exports,imports", "--batch-rows=7"});
  REQUIRE(outcome.errors.empty());
  const std::string text = describe(outcome.config);
  CHECK(text.find("kinds=exports,imports") != std::string::npos);
  CHECK(text.find("batch_rows=7") != std::string::npos);
}

TEST_CASE("worker config describe masks password", "[config][worker]") {
  const auto outcome = read_with({"--redis-url=redis://jobs:hunter2@redis.internal:6380"});
  REQUIRE(outcome.errors.empty());
  const std::string text = describe(outcome.config);
  CHECK(text.find("hunter2") == std::string::npos);
  CHECK(text.find("redis=redis://jobs:***@redis.internal:6380") != std::string::npos);
}

TEST_CASE("worker config webhook settings", "[config][worker]") {
  const auto outcome =
      read_with({"--kinds=webhooks", "--webhook-concurrency=4", "--webhook-target-concurrency=2",
                 "--webhook-allow-http=true", "--webhook-allow-addresses=loopback",
                 "--webhook-retry-schedule=1s,2s", "--webhook-disable-after=60000",
                 "--public-url=http://127.0.0.1:9000/"});
  REQUIRE(outcome.errors.empty());
  const auto& config = outcome.config;
  CHECK(config.webhooks);
  CHECK(config.kinds.empty());
  CHECK(config.webhook_concurrency == 4);
  CHECK(config.webhook_target_concurrency == 2);
  CHECK(config.webhook_allow_http);
  CHECK(config.webhook_retries.max_attempts() == 3);
  CHECK(config.webhook_disable_after_ms == 60000);
  CHECK(config.public_url == "http://127.0.0.1:9000");
  CHECK_FALSE(config.webhook_policy.refusal(boost::asio::ip::make_address("127.0.0.1")));
  CHECK(describe(config).find("kinds=webhooks") != std::string::npos);
}

TEST_CASE("worker config webhook defaults refuse loopback", "[config][worker]") {
  const auto outcome = read_with({});
  REQUIRE(outcome.errors.empty());
  CHECK_FALSE(outcome.config.webhooks);
  CHECK_FALSE(outcome.config.webhook_allow_http);
  CHECK(outcome.config.webhook_policy.refusal(boost::asio::ip::make_address("127.0.0.1")));
  CHECK(outcome.config.webhook_retries.max_attempts() == 12);
}

TEST_CASE("worker config rejects bad webhook values", "[config][worker]") {
  check_rejected("--webhook-allow-http=yes", "webhook-allow-http");
  check_rejected("--webhook-allow-addresses=nowhere", "webhook-allow-addresses");
  check_rejected("--webhook-retry-schedule=5x", "webhook-retry-schedule");
  check_rejected("--webhook-concurrency=0", "webhook-concurrency");
}

TEST_CASE("worker config metrics listener", "[config][worker]") {
  const auto defaults = read_with({});
  REQUIRE(defaults.errors.empty());
  CHECK(defaults.config.metrics_address == "0.0.0.0");
  CHECK(defaults.config.metrics_port == 9090);
  const auto outcome = read_with({"--metrics-address=127.0.0.1", "--metrics-port=0"});
  REQUIRE(outcome.errors.empty());
  CHECK(outcome.config.metrics_address == "127.0.0.1");
  CHECK(outcome.config.metrics_port == 0);
  CHECK(describe(outcome.config).find("metrics=127.0.0.1:0") != std::string::npos);
  check_rejected("--metrics-port=65536", "metrics-port");
}
