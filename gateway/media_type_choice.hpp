#pragma once

#include <span>
#include <string_view>

namespace jobgate::gateway {

// Chooses the media type to send from `offered` (lowercase "type/subtype" values) by an Accept
// header value (RFC 9110, section 12.5.1). Each offered type takes the quality of the most specific
// media range that matches it ("text/csv" before "text/*" before "*/*"). The highest quality wins;
// a tie goes to the type matched by the more specific range, then to the earlier offered type.
// Returns the first offered type for an empty header, and an empty view when every offered type
// has quality 0 or matches no range. Malformed list members are skipped.
std::string_view choose_media_type(std::string_view accept,
                                   std::span<const std::string_view> offered);

}  // namespace jobgate::gateway
