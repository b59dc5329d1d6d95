#pragma once

#include <boost/system/result.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/tenants/tenant_store.hpp"

namespace jobgate::admin {

enum class admin_action {
  tenant_create,
  tenant_set,
  tenant_show,
  tenant_list,
  key_create,
  key_list,
  key_revoke
};

// One command of jobgate-admin with its arguments.
struct admin_command {
  admin_action action = admin_action::tenant_list;
  std::string tenant;
  std::string key_id;
  std::string description;
  std::string label;
  std::vector<tenants::limit_change> limits;
  bool json = false;
};

// The command line, split into the command and the settings that settings_reader reads.
struct admin_arguments {
  // nullopt when --help was given; `help` is then the text to print.
  std::optional<admin_command> command;
  std::string help;
  // Setting flags such as "--redis-url" and their values, in the order given.
  std::vector<std::string> settings;
};

// A command line that does not fit any command: what is wrong, and the usage of the command
// that was recognised, or the overall usage.
struct usage_error {
  std::string message;
  std::string usage;
};

// Parses the arguments after the program name. Never touches the environment or Redis.
boost::system::result<admin_arguments, usage_error> parse_admin_arguments(
    std::span<const std::string_view> arguments);

// The names of the settings that jobgate-admin reads, such as "redis-url".
std::span<const std::string_view> admin_setting_names();

}  // namespace jobgate::admin
