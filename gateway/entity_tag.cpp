#include "gateway/entity_tag.hpp"

#include "common/crypto/sha256.hpp"
#include "gateway/header_text.hpp"

namespace jobgate::gateway {

std::string make_strong_etag(std::string_view representation) {
  return "\"" + crypto::sha256_hex(representation).substr(0, 32) + "\"";
}

bool if_none_match_matches(std::string_view header, std::string_view etag) {
  header = trim_optional_whitespace(header);
  if (header == "*") {
    return true;
  }
  // Only commas outside the quotes separate members, because a tag itself may contain a comma.
  std::size_t position = 0;
  while (position < header.size()) {
    const char c = header[position];
    if (c == ' ' || c == '\t' || c == ',') {
      ++position;
      continue;
    }
    if (header.substr(position, 2) == "W/") {
      position += 2;
    }
    if (position >= header.size() || header[position] != '"') {
      return false;
    }
    const auto closing = header.find('"', position + 1);
    if (closing == std::string_view::npos) {
      return false;
    }
    if (header.substr(position, closing + 1 - position) == etag) {
      return true;
    }
    position = closing + 1;
  }
  return false;
}

bool if_range_matches(std::string_view header, std::string_view etag) {
  return trim_optional_whitespace(header) == etag;
}

}  // namespace jobgate::gateway
