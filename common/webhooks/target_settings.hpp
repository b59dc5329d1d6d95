#pragma once

#include <string>
#include <vector>

#include "common/config/settings_reader.hpp"
#include "common/webhooks/address_policy.hpp"

namespace jobgate::webhooks {

// The webhook targets a daemon accepts. The gateway checks URLs with them when it stores a
// subscription or callback URL, and the webhook workers again on every attempt.
struct target_settings {
  std::vector<std::string> allow_addresses;  // as given, e.g. {"loopback"}
  address_policy policy;                     // built from allow_addresses
  bool allow_http = false;                   // plain http targets, for local development
};

// Reads the settings webhook-allow-addresses and webhook-allow-http; problems are left in
// reader.errors().
target_settings read_target_settings(settings_reader& reader);

}  // namespace jobgate::webhooks
