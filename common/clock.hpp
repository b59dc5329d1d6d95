#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace jobgate {

// Milliseconds since the Unix epoch, the unit of every timestamp in the store.
std::int64_t now_millis();

// Formats milliseconds since the epoch as RFC 3339 UTC with milliseconds.
std::string format_timestamp(std::int64_t millis);

// Parses an RFC 3339 date-time ("2026-12-04T10:00:00Z", "2026-12-04T11:00:00.250+01:00") into
// milliseconds since the epoch; fractions beyond milliseconds are cut. Returns nullopt for anything
// else, including impossible dates.
std::optional<std::int64_t> parse_timestamp(std::string_view text);

}  // namespace jobgate
