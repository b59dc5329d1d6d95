#pragma once

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

namespace jobgate::test {

// The Kafka broker that tests/run-services started; fails the test when it is not set.
inline std::string test_brokers() {
  const char* brokers = std::getenv("JOBGATE_TEST_KAFKA_BROKERS");
  if (brokers == nullptr || *brokers == '\0') {
    FAIL(
        "JOBGATE_TEST_KAFKA_BROKERS is not set. Run the integration tests through the test "
        "runner, or wrap them: tests/run-services BUILD_DIR/tests/jobgate_integration_tests");
  }
  return brokers;
}

}  // namespace jobgate::test
