#pragma once

#include <cstdint>
#include <string_view>

namespace jobgate::gateway {

// An inclusive range of byte positions, as in "Content-Range: bytes first-last/size".
struct byte_range {
  std::uint64_t first = 0;
  std::uint64_t last = 0;

  std::uint64_t length() const { return last - first + 1; }
  bool operator==(const byte_range&) const = default;
};

// The part of a representation of known size that a request's Range header selects.
enum class range_outcome {
  whole,          // no usable Range header: send the whole representation with 200
  partial,        // send `range` with 206
  unsatisfiable,  // send 416 with "Content-Range: bytes */size"
};

struct range_selection {
  range_outcome outcome = range_outcome::whole;
  byte_range range;  // set for partial only
};

// Applies a Range header value (RFC 9110, section 14.2) to a representation of `size` bytes.
// Supports one range of the "bytes" unit in the forms "a-b", "a-" and "-n"; a last position past
// the end is cut to the end. An empty, malformed or multi-range header, and any other unit, yield
// whole, because a server may ignore Range. A range that starts at or after the end, a suffix of
// length 0, and any range of an empty representation are unsatisfiable.
range_selection select_byte_range(std::string_view header, std::uint64_t size);

}  // namespace jobgate::gateway
