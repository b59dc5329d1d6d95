#include <catch2/catch.hpp>

#include "cli/progress_format.hpp"

using namespace jobgate::cli;

TEST_CASE("progress format: counts with separators", "[cli]") {
  CHECK(format_count(0) == "0");
  CHECK(format_count(999) == "999");
  CHECK(format_count(1000) == "1,000");
  CHECK(format_count(12345) == "12,345");
  CHECK(format_count(123456) == "123,456");
  CHECK(format_count(1234567) == "1,234,567");
}

TEST_CASE("progress format: byte sizes", "[cli]") {
  CHECK(format_bytes(0) == "0 B");
  CHECK(format_bytes(1023) == "1023 B");
  CHECK(format_bytes(1024) == "1.0 KiB");
  CHECK(format_bytes(12595) == "12.3 KiB");
  CHECK(format_bytes(1048575) == "1.0 MiB");
  CHECK(format_bytes(4718592) == "4.5 MiB");
  CHECK(format_bytes(1288490189) == "1.2 GiB");
}

TEST_CASE("progress format: durations", "[cli]") {
  CHECK(format_duration(0) == "0:00");
  CHECK(format_duration(5.4) == "0:05");
  CHECK(format_duration(65) == "1:05");
  CHECK(format_duration(3599.6) == "1:00:00");
  CHECK(format_duration(3723) == "1:02:03");
  CHECK(format_duration(-3) == "0:00");
}

TEST_CASE("progress format: rates", "[cli]") {
  CHECK(format_rate(0) == "0 rows/s");
  CHECK(format_rate(850.4) == "850 rows/s");
  CHECK(format_rate(9999.4) == "9999 rows/s");
  CHECK(format_rate(12345) == "12.3k rows/s");
  CHECK(format_rate(2'500'000) == "2.5M rows/s");
}

TEST_CASE("progress format: bars", "[cli]") {
  CHECK(format_bar(0.0, 10) == "[----------]");
  CHECK(format_bar(0.5, 10) == "[#####-----]");
  CHECK(format_bar(0.99, 10) == "[#########-]");
  CHECK(format_bar(1.0, 10) == "[##########]");
  CHECK(format_bar(1.7, 4) == "[####]");
  CHECK(format_bar(-1.0, 4) == "[----]");
}

TEST_CASE("progress format: bar line with rate and ETA", "[cli]") {
  const progress_snapshot snapshot{"PROCESSING", 500, 1000, 100.0};
  CHECK(format_progress_bar(snapshot, 10) ==
        "PROCESSING [#####-----]  50.0%  500/1,000 rows  100 rows/s  ETA 0:05");
  CHECK(format_progress_line(snapshot) ==
        "PROCESSING 500/1,000 rows (50.0%), 100 rows/s, ETA 0:05");
}

TEST_CASE("progress format: unknown total shows rows only", "[cli]") {
  const progress_snapshot snapshot{"PROCESSING", 1500, std::nullopt, 250.0};
  CHECK(format_progress_bar(snapshot, 10) == "PROCESSING  1,500 rows  250 rows/s");
  CHECK(format_progress_line(snapshot) == "PROCESSING 1,500 rows, 250 rows/s");
  CHECK_FALSE(estimate_seconds_left(snapshot));
}

TEST_CASE("progress format: ETA needs a positive rate", "[cli]") {
  CHECK_FALSE(estimate_seconds_left({"PROCESSING", 10, 100, 0.0}));
  CHECK_FALSE(estimate_seconds_left({"PROCESSING", 10, 100, std::nullopt}));
  const auto done = estimate_seconds_left({"PROCESSING", 120, 100, 10.0});
  REQUIRE(done);
  CHECK(*done == 0.0);
}

TEST_CASE("rate meter: sliding window", "[cli]") {
  rate_meter meter(10.0);
  CHECK_FALSE(meter.rows_per_second());
  meter.add(0.0, 0);
  CHECK_FALSE(meter.rows_per_second());
  meter.add(0.1, 50);
  CHECK_FALSE(meter.rows_per_second());  // too short to measure
  meter.add(2.0, 200);
  REQUIRE(meter.rows_per_second());
  CHECK(*meter.rows_per_second() == Approx(100.0));

  // Old samples leave the window, so the rate follows the recent speed.
  meter.add(12.0, 1200);
  meter.add(22.0, 1300);
  REQUIRE(meter.rows_per_second());
  CHECK(*meter.rows_per_second() == Approx(10.0));
}

TEST_CASE("rate meter: restarts after rows go back", "[cli]") {
  rate_meter meter;
  meter.add(0.0, 0);
  meter.add(1.0, 500);
  meter.add(2.0, 100);
  CHECK_FALSE(meter.rows_per_second());
  meter.add(3.0, 300);
  REQUIRE(meter.rows_per_second());
  CHECK(*meter.rows_per_second() == Approx(200.0));
}
