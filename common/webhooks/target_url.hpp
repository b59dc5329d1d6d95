#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace jobgate::webhooks {

// A webhook target: an absolute http or https URL without user information or fragment.
struct target_url {
  bool tls = true;
  std::string host;        // a name or an address, IPv6 without brackets
  std::uint16_t port = 0;  // the scheme's default when the URL names none
  std::string target;      // path and query, "/" when the URL has no path
  std::string text;        // the URL as given
};

// Parses a webhook target URL of at most 2048 characters. Returns nullopt and sets `error` to a
// sentence for the client, e.g. "the URL must use https or http".
std::optional<target_url> parse_target_url(std::string_view text, std::string& error);

}  // namespace jobgate::webhooks
