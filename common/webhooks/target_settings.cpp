#include "common/webhooks/target_settings.hpp"

namespace jobgate::webhooks {

target_settings read_target_settings(settings_reader& reader) {
  target_settings settings;
  settings.allow_addresses =
      reader.list("webhook-allow-addresses", "",
                  "address ranges webhook URLs may reach besides public addresses, "
                  "comma-separated: loopback, private, an address or a CIDR range");
  std::string error;
  if (auto policy = address_policy::parse(settings.allow_addresses, error)) {
    settings.policy = std::move(*policy);
  } else {
    reader.reject("webhook-allow-addresses", error);
  }
  const std::string allow_http =
      reader.text("webhook-allow-http", "false",
                  "true to accept http:// webhook and callback URLs besides https://");
  if (allow_http != "true" && allow_http != "false") {
    reader.reject("webhook-allow-http", "'" + allow_http + "' is neither true nor false");
  }
  settings.allow_http = allow_http == "true";
  return settings;
}

}  // namespace jobgate::webhooks
