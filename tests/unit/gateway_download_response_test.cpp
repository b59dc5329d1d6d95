#include <catch2/catch.hpp>

#include "gateway/download_response.hpp"

using jobgate::gateway::download_link_expiry;

TEST_CASE("download link expiry rounding", "[gateway][download]") {
  // TTL 300 s: steps of 30 s, never earlier than now + TTL.
  CHECK(download_link_expiry(1'000'000'000, 300) == 1'000'000'320);
  CHECK(download_link_expiry(1'000'000'020, 300) == 1'000'000'320);
  CHECK(download_link_expiry(1'000'000'021, 300) == 1'000'000'350);
  // Steps are at most 60 s and at least 1 s.
  CHECK(download_link_expiry(1'000'000'001, 3600) == 1'000'003'620);
  CHECK(download_link_expiry(1'000'000'001, 10) == 1'000'000'011);
  for (std::int64_t now = 1'700'000'000; now < 1'700'000'100; ++now) {
    const std::int64_t expires = download_link_expiry(now, 300);
    CHECK(expires >= now + 300);
    CHECK(expires < now + 330);
  }
}
