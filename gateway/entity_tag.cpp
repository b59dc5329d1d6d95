#include "gateway/entity_tag.hpp"

#include "common/crypto/sha256.hpp"

namespace jobgate::gateway {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace

std::string make_strong_etag(std::string_view representation) {
  return "\"" + crypto::sha256_hex(representation).substr(0, 32) + "\"";
}

bool if_none_match_matches(std::string_view header, std::string_view etag) {
  header = trim(header);
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
  return trim(header) == etag;
}

}  // namespace jobgate::gateway
