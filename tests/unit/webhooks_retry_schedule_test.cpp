#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "common/webhooks/retry_schedule.hpp"

namespace {

using jobgate::webhooks::retry_schedule;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

retry_schedule parse_or_fail(const std::string& text) {
  std::string error;
  auto schedule = retry_schedule::parse(text, error);
  INFO("schedule '" << text << "', error: " << error);
  REQUIRE(schedule.has_value());
  return *schedule;
}

std::string parse_error(const std::string& text) {
  std::string error;
  INFO("schedule '" << text << "'");
  CHECK_FALSE(retry_schedule::parse(text, error).has_value());
  return error;
}

// The largest double below 1, the top of the documented range of random01.
const double almost_one = std::nextafter(1.0, 0.0);

}  // namespace

TEST_CASE("retry schedule standard list", "[webhooks][retry]") {
  const retry_schedule schedule = retry_schedule::standard();
  CHECK(schedule.describe() == "5s,30s,2m,10m,30m,1h,2h,4h,8h,8h,8h");
  CHECK(schedule.max_attempts() == 12);
  CHECK(schedule.delay_after(1, 0.5) == 5s);
  CHECK(schedule.delay_after(2, 0.5) == 30s);
  CHECK(schedule.delay_after(5, 0.5) == 30min);
  CHECK(schedule.delay_after(11, 0.5) == 8h);
}

TEST_CASE("retry schedule parses units", "[webhooks][retry]") {
  const retry_schedule schedule = parse_or_fail("250ms,5s,2m,3h,1d");
  CHECK(schedule.max_attempts() == 6);
  CHECK(schedule.delay_after(1, 0.5) == 250ms);
  CHECK(schedule.delay_after(2, 0.5) == 5s);
  CHECK(schedule.delay_after(3, 0.5) == 2min);
  CHECK(schedule.delay_after(4, 0.5) == 3h);
  CHECK(schedule.delay_after(5, 0.5) == 24h);
}

TEST_CASE("retry schedule single entry", "[webhooks][retry]") {
  const retry_schedule schedule = parse_or_fail("30s");
  CHECK(schedule.max_attempts() == 2);
  CHECK(schedule.describe() == "30s");
}

TEST_CASE("retry schedule ignores spaces", "[webhooks][retry]") {
  CHECK(parse_or_fail(" 5s , 30s,\t2m ").describe() == "5s,30s,2m");
}

TEST_CASE("retry schedule describes largest unit", "[webhooks][retry]") {
  CHECK(parse_or_fail("60s,90s,3600000ms,1500ms,24h,36h,120m").describe() ==
        "1m,90s,1h,1500ms,1d,36h,2h");
  CHECK(parse_or_fail("30d").describe() == "30d");
}

TEST_CASE("retry schedule describe round trip", "[webhooks][retry]") {
  const retry_schedule schedule = parse_or_fail("1ms,999ms,61s,25h,7d");
  const retry_schedule again = parse_or_fail(schedule.describe());
  REQUIRE(again.max_attempts() == schedule.max_attempts());
  for (std::size_t attempts = 1; attempts < schedule.max_attempts(); ++attempts) {
    CHECK(again.delay_after(attempts, 0.5) == schedule.delay_after(attempts, 0.5));
  }
}

TEST_CASE("retry schedule first attempt immediate", "[webhooks][retry]") {
  CHECK(retry_schedule::standard().delay_after(0, 0.0) == 0ms);
  CHECK(retry_schedule::standard().delay_after(0, 0.9) == 0ms);
}

TEST_CASE("retry schedule jitter bounds", "[webhooks][retry]") {
  const retry_schedule schedule = retry_schedule::standard();
  CHECK(schedule.delay_after(1, 0.0) == 4000ms);
  CHECK(schedule.delay_after(1, almost_one) == 5999ms);
  CHECK(schedule.delay_after(1, 0.25) == 4500ms);
  CHECK(schedule.delay_after(1, 0.75) == 5500ms);
  CHECK(schedule.delay_after(11, 0.0) == milliseconds(8 * 3600 * 1000 * 4 / 5));
  CHECK(schedule.delay_after(11, almost_one) == milliseconds(8 * 3600 * 1000 * 6 / 5 - 1));
}

TEST_CASE("retry schedule jitter stays in range", "[webhooks][retry]") {
  const retry_schedule schedule = parse_or_fail("1ms,2ms,3ms,7ms,5s,30s,13m,8h,30d");
  for (std::size_t attempts = 1; attempts < schedule.max_attempts(); ++attempts) {
    const double base = static_cast<double>(schedule.delay_after(attempts, 0.5).count());
    for (int step = 0; step <= 1000; ++step) {
      const double random01 = step == 1000 ? almost_one : step / 1000.0;
      const auto delay = static_cast<double>(schedule.delay_after(attempts, random01).count());
      INFO("attempts " << attempts << ", random01 " << random01);
      CHECK(delay >= 0.8 * base - 1);
      CHECK(delay >= 1);
      CHECK(delay < 1.2 * base + 1);
    }
  }
}

TEST_CASE("retry schedule jitter exact bounds", "[webhooks][retry]") {
  // For each delay d the result lies in [0.8 d, 1.2 d), checked in integers as 5 * result.
  const retry_schedule schedule = parse_or_fail("1ms,2ms,3ms,4ms,7ms,11ms,999ms,5s,8h");
  const std::int64_t delays[] = {1, 2, 3, 4, 7, 11, 999, 5000, 8 * 3600 * 1000};
  for (std::size_t attempts = 1; attempts < schedule.max_attempts(); ++attempts) {
    const std::int64_t d = delays[attempts - 1];
    for (const double random01 : {0.0, 0.1, 0.5, 0.9, almost_one}) {
      const std::int64_t delay = schedule.delay_after(attempts, random01).count();
      INFO("delay " << d << "ms, random01 " << random01 << ", result " << delay);
      CHECK(5 * delay >= 4 * d);
      CHECK(5 * delay < 6 * d);
    }
  }
}

TEST_CASE("retry schedule jitter grows with random", "[webhooks][retry]") {
  const retry_schedule schedule = retry_schedule::standard();
  milliseconds previous = schedule.delay_after(3, 0.0);
  for (int step = 1; step < 100; ++step) {
    const milliseconds delay = schedule.delay_after(3, step / 100.0);
    CHECK(delay >= previous);
    previous = delay;
  }
  CHECK(schedule.delay_after(3, 0.0) < schedule.delay_after(3, almost_one));
}

TEST_CASE("retry schedule clamps random01", "[webhooks][retry]") {
  const retry_schedule schedule = retry_schedule::standard();
  CHECK(schedule.delay_after(1, -0.5) == 4000ms);
  CHECK(schedule.delay_after(1, 1.0) == 5999ms);
  CHECK(schedule.delay_after(1, 7.0) == 5999ms);
  CHECK(schedule.delay_after(1, std::numeric_limits<double>::quiet_NaN()) == 4000ms);
  CHECK(schedule.delay_after(1, std::numeric_limits<double>::infinity()) == 5999ms);
}

TEST_CASE("retry schedule attempts out of range", "[webhooks][retry]") {
  const retry_schedule schedule = parse_or_fail("5s,30s");
  CHECK(schedule.max_attempts() == 3);
  CHECK_NOTHROW(schedule.delay_after(2, 0.5));
  CHECK_THROWS_AS(schedule.delay_after(3, 0.5), std::out_of_range);
  CHECK_THROWS_AS(schedule.delay_after(100, 0.5), std::out_of_range);
}

TEST_CASE("retry schedule rejects empty", "[webhooks][retry]") {
  const std::string expected =
      "the retry schedule is empty; give at least one delay such as \"30s\"";
  CHECK(parse_error("") == expected);
  CHECK(parse_error("  ") == expected);
}

TEST_CASE("retry schedule rejects empty entry", "[webhooks][retry]") {
  const std::string text = GENERATE(as<std::string>{}, ",", "5s,", ",5s", "5s,,30s", "5s, ,30s");
  CHECK(parse_error(text) == "the retry schedule has an empty entry between commas");
}

TEST_CASE("retry schedule rejects bad entries", "[webhooks][retry]") {
  const std::string entry = GENERATE(as<std::string>{}, "5", "s", "5x", "5 s", "5S", "5sec", "1.5h",
                                     "+5s", "5s5s", "0x5s", "5min", "5us", "ms", "five");
  const std::string error = parse_error("30s," + entry);
  CHECK(error ==
        "the retry delay \"" + entry + "\" is not a whole number followed by ms, s, m, h or d");
}

TEST_CASE("retry schedule rejects zero delays", "[webhooks][retry]") {
  const std::string entry = GENERATE(as<std::string>{}, "0s", "0ms", "00m", "-5s", "-1d");
  CHECK(parse_error("5s," + entry) ==
        "the retry delay \"" + entry + "\" must be greater than zero");
}

TEST_CASE("retry schedule rejects huge delays", "[webhooks][retry]") {
  const std::string entry =
      GENERATE(as<std::string>{}, "31d", "721h", "43201m", "2592001s", "2592000001ms",
               "99999999999999999999d", "9223372036854775807ms");
  CHECK(parse_error(entry) == "the retry delay \"" + entry + "\" is longer than 30 days");
  CHECK(parse_or_fail("720h,43200m,2592000s,2592000000ms").describe() == "30d,30d,30d,30d");
}
