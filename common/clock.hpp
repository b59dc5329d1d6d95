#pragma once

#include <cstdint>
#include <string>

namespace jobgate {

// Milliseconds since the Unix epoch, the unit of every timestamp in the store.
std::int64_t now_millis();

// Formats milliseconds since the epoch as RFC 3339 UTC with milliseconds.
std::string format_timestamp(std::int64_t millis);

}  // namespace jobgate
