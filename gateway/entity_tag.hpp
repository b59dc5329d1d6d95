#pragma once

#include <string>
#include <string_view>

namespace jobgate::gateway {

// Returns a strong entity tag for `representation`, quoted as the ETag header carries it: the
// first 128 bits of its SHA-256 digest in hex, so equal bytes always give an equal tag.
std::string make_strong_etag(std::string_view representation);

// Returns whether an If-None-Match header value matches `etag` (a quoted strong tag): "*", or a
// list member equal to it under the weak comparison of RFC 9110, which ignores a "W/" prefix.
// A malformed list matches only through the members before the error.
bool if_none_match_matches(std::string_view header, std::string_view etag);

// Returns whether an If-Range header value allows a partial response: it must be exactly `etag`
// (strong comparison). A date or a weak tag never matches, because the gateway sends no
// Last-Modified and only strong tags.
bool if_range_matches(std::string_view header, std::string_view etag);

}  // namespace jobgate::gateway
