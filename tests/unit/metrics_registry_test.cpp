#include "common/metrics/metrics_registry.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using jobgate::metrics::exposition;
using jobgate::metrics::registry;

bool contains(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

}  // namespace

TEST_CASE("metrics counter renders labels", "[metrics]") {
  registry metrics;
  auto& jobs = metrics.add_counter("jobgate_jobs_total", "Jobs by kind.", {"kind"});
  jobs.with({"imports"}).increment(3);
  jobs.with({"exports"}).increment();
  const std::string text = metrics.render();
  CHECK(contains(text, "# HELP jobgate_jobs_total Jobs by kind.\n"));
  CHECK(contains(text, "# TYPE jobgate_jobs_total counter\n"));
  CHECK(contains(text, "jobgate_jobs_total{kind=\"imports\"} 3\n"));
  CHECK(contains(text, "jobgate_jobs_total{kind=\"exports\"} 1\n"));
}

TEST_CASE("metrics gauge without labels", "[metrics]") {
  registry metrics;
  auto& busy = metrics.add_gauge("jobgate_busy", "Busy slots.");
  busy.with({}).set(2);
  busy.with({}).add(-0.5);
  CHECK(contains(metrics.render(), "jobgate_busy 1.5\n"));
}

TEST_CASE("metrics histogram buckets are cumulative", "[metrics]") {
  registry metrics;
  auto& latency = metrics.add_histogram("jobgate_seconds", "Latency.", {"route"}, {0.125, 1, 10});
  auto& series = latency.with({"/v1/jobs"});
  for (const double value : {0.0625, 0.125, 0.5, 2.0, 20.0}) {
    series.observe(value);
  }
  const std::string text = metrics.render();
  CHECK(contains(text, "# TYPE jobgate_seconds histogram\n"));
  CHECK(contains(text, "jobgate_seconds_bucket{route=\"/v1/jobs\",le=\"0.125\"} 2\n"));
  CHECK(contains(text, "jobgate_seconds_bucket{route=\"/v1/jobs\",le=\"1\"} 3\n"));
  CHECK(contains(text, "jobgate_seconds_bucket{route=\"/v1/jobs\",le=\"10\"} 4\n"));
  CHECK(contains(text, "jobgate_seconds_bucket{route=\"/v1/jobs\",le=\"+Inf\"} 5\n"));
  CHECK(contains(text, "jobgate_seconds_sum{route=\"/v1/jobs\"} 22.6875\n"));
  CHECK(contains(text, "jobgate_seconds_count{route=\"/v1/jobs\"} 5\n"));
}

TEST_CASE("metrics escape label values", "[metrics]") {
  registry metrics;
  auto& errors =
      metrics.add_counter("jobgate_errors_total", "Errors\\by kind\nsecond line.", {"error"});
  errors.with({"quote \" backslash \\ newline \n"}).increment();
  const std::string text = metrics.render();
  CHECK(contains(text, "# HELP jobgate_errors_total Errors\\\\by kind\\nsecond line.\n"));
  CHECK(contains(text, "{error=\"quote \\\" backslash \\\\ newline \\n\"} 1\n"));
}

TEST_CASE("metrics reject wrong label count", "[metrics]") {
  registry metrics;
  auto& jobs = metrics.add_counter("jobgate_jobs_total", "Jobs.", {"kind", "status"});
  CHECK_THROWS_AS(jobs.with({"imports"}), std::invalid_argument);
}

TEST_CASE("metrics collectors write last", "[metrics]") {
  registry metrics;
  metrics.add_counter("jobgate_first_total", "First.").with({}).increment();
  metrics.add_collector([](exposition& out) {
    out.begin_family("jobgate_lag", "Lag.", "gauge");
    out.sample("jobgate_lag", {{"topic", "jobgate.imports"}, {"partition", "0"}}, 7);
  });
  const std::string text = metrics.render();
  CHECK(contains(text, "jobgate_lag{topic=\"jobgate.imports\",partition=\"0\"} 7\n"));
  CHECK(text.find("jobgate_first_total") < text.find("jobgate_lag"));
}

TEST_CASE("metrics counter counts across threads", "[metrics]") {
  registry metrics;
  auto& hits = metrics.add_counter("jobgate_hits_total", "Hits.", {"kind"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        hits.with({"imports"}).increment();
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  CHECK(hits.with({"imports"}).value() == 40000);
}
