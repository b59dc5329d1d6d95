#include "gateway/admin/admin_arguments.hpp"

#include <algorithm>
#include <array>

#include "common/tenants/api_key.hpp"
#include "common/tenants/tenant_limits.hpp"
#include "common/tenants/tenant_name.hpp"

namespace jobgate::admin {

namespace {

enum class option_set { none, limits_and_description, limits, label };

struct command_spec {
  std::string_view group;
  std::string_view verb;
  admin_action action;
  std::string_view operands;  // e.g. "TENANT KEY_ID"
  option_set options;
  std::string_view summary;
};

constexpr std::array<command_spec, 7> commands = {{
    {"tenant", "create", admin_action::tenant_create, "NAME", option_set::limits_and_description,
     "creates a tenant, optionally with limits of its own"},
    {"tenant", "set", admin_action::tenant_set, "NAME", option_set::limits,
     "sets limits of a tenant; the value 'default' removes one"},
    {"tenant", "show", admin_action::tenant_show, "NAME", option_set::none,
     "shows a tenant, its own limits and the built-in defaults"},
    {"tenant", "list", admin_action::tenant_list, "", option_set::none, "lists the tenants"},
    {"key", "create", admin_action::key_create, "TENANT", option_set::label,
     "creates an API key and prints it once"},
    {"key", "list", admin_action::key_list, "TENANT", option_set::none,
     "lists a tenant's API keys by id, never the keys themselves"},
    {"key", "revoke", admin_action::key_revoke, "TENANT KEY_ID", option_set::none,
     "deletes an API key; gateways reject it within 5 seconds"},
}};

constexpr std::array<std::string_view, 1> setting_names = {"redis-url"};
// Maximum length of a description or key label.
constexpr std::size_t max_text_length = 200;

constexpr std::string_view common_options =
    "  --json              print JSON instead of text\n"
    "  --redis-url URL     Redis server (JOBGATE_REDIS_URL), default redis://127.0.0.1:6379\n"
    "  --help              print help for the command\n";

std::string title(const command_spec& spec) {
  return std::string(spec.group) + " " + std::string(spec.verb);
}

std::string synopsis(const command_spec& spec) {
  std::string line = "jobgate-admin " + title(spec);
  if (!spec.operands.empty()) {
    line += " " + std::string(spec.operands);
  }
  switch (spec.options) {
    case option_set::limits_and_description:
      line += " [--description TEXT] [--LIMIT VALUE ...]";
      break;
    case option_set::limits:
      line += " --LIMIT VALUE [--LIMIT VALUE ...]";
      break;
    case option_set::label:
      line += " [--label TEXT]";
      break;
    case option_set::none:
      break;
  }
  return line;
}

std::string limit_help() {
  std::string text = "Limits (VALUE is a whole number, or 'default' for the deployment default):\n";
  for (const auto& field : tenants::limit_fields()) {
    text += "  --" + std::string(field.name) + ": " + std::string(field.help) + ", in " +
            std::string(field.unit) + ", " + std::to_string(field.min) + " to " +
            std::to_string(field.max) + (field.min == 0 ? " (0 turns it off)" : "") + "\n";
  }
  return text;
}

std::string command_usage(const command_spec& spec) {
  std::string text = "Usage: " + synopsis(spec) + "\n\n" +
                     "Description: " + std::string(spec.summary) + ".\n\nOptions:\n";
  if (spec.options == option_set::limits_and_description) {
    text += "  --description TEXT  a note about the tenant for operators\n";
  }
  if (spec.options == option_set::label) {
    text += "  --label TEXT        a note that names the key's user, shown by key list\n";
  }
  text += common_options;
  if (spec.options == option_set::limits_and_description || spec.options == option_set::limits) {
    text += "\n" + limit_help();
  }
  return text;
}

std::string overall_usage() {
  std::string text =
      "Usage: jobgate-admin COMMAND [ARGUMENT ...] [OPTION ...]\n\n"
      "Manages jobgate tenants and their API keys in Redis.\n\nCommands:\n";
  for (const auto& spec : commands) {
    text += "  " + synopsis(spec) + "\n      " + std::string(spec.summary) + "\n";
  }
  text += "\nOptions of every command:\n" + std::string(common_options) +
          "\nExit status: 0 on success, 1 when the command failed, 2 for invalid arguments.\n";
  return text;
}

// An option of the command line with its value, e.g. {"label", "ci"}.
struct option {
  std::string name;
  std::string value;
};

usage_error fail(std::string message, std::string usage = overall_usage()) {
  return usage_error{std::move(message), std::move(usage)};
}

// Applies the command's options to `command`; returns a usage error for the first bad one.
std::optional<usage_error> apply_options(const command_spec& spec,
                                         const std::vector<option>& options,
                                         admin_command& command) {
  std::vector<std::string_view> seen;
  for (const auto& [name, value] : options) {
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      return fail("option --" + name + " is given twice", command_usage(spec));
    }
    seen.push_back(name);
    const bool takes_limits =
        spec.options == option_set::limits_and_description || spec.options == option_set::limits;
    const bool is_text =
        (name == "description" && spec.options == option_set::limits_and_description) ||
        (name == "label" && spec.options == option_set::label);
    if (is_text) {
      // Descriptions and labels are printed in tables, one entry per line.
      const bool printable = std::none_of(value.begin(), value.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
      });
      if (!printable || value.size() > max_text_length) {
        return fail("invalid value for --" + name + ": at most " + std::to_string(max_text_length) +
                        " characters without control characters",
                    command_usage(spec));
      }
      (name == "description" ? command.description : command.label) = value;
    } else if (takes_limits && tenants::find_limit_field(name) != nullptr) {
      auto change = tenants::parse_limit_change(name, value);
      if (!change) {
        return fail("invalid value for --" + name + ": " + change.error(), command_usage(spec));
      }
      command.limits.push_back(std::move(*change));
    } else {
      return fail("unknown option --" + name + " for '" + title(spec) + "'", command_usage(spec));
    }
  }
  return std::nullopt;
}

// Copies the operands into `command`; returns a usage error when one is missing or invalid.
std::optional<usage_error> apply_operands(const command_spec& spec,
                                          const std::vector<std::string>& operands,
                                          admin_command& command) {
  const std::size_t expected = spec.operands.empty()
                                   ? 0
                                   : 1 + static_cast<std::size_t>(std::count(
                                             spec.operands.begin(), spec.operands.end(), ' '));
  if (operands.size() < expected) {
    return fail("'" + title(spec) + "' needs " + std::string(spec.operands), command_usage(spec));
  }
  if (operands.size() > expected) {
    return fail("unexpected argument '" + operands[expected] + "'", command_usage(spec));
  }
  if (expected >= 1) {
    command.tenant = operands[0];
    if (!tenants::is_valid_tenant_name(command.tenant)) {
      return fail(
          "invalid tenant name '" + command.tenant + "': use 1 to 64 letters, digits, '-' or '_'",
          command_usage(spec));
    }
  }
  if (expected >= 2) {
    command.key_id = operands[1];
    if (!tenants::is_valid_key_id(command.key_id)) {
      return fail("invalid key id '" + command.key_id +
                      "': ids are 'key_' and 12 hex digits, as key list prints them",
                  command_usage(spec));
    }
  }
  return std::nullopt;
}

const command_spec* find_command(std::string_view group, std::string_view verb) {
  for (const auto& spec : commands) {
    if (spec.group == group && spec.verb == verb) {
      return &spec;
    }
  }
  return nullptr;
}

}  // namespace

std::span<const std::string_view> admin_setting_names() {
  return setting_names;
}

boost::system::result<admin_arguments, usage_error> parse_admin_arguments(
    std::span<const std::string_view> arguments) {
  admin_arguments parsed;
  bool help = false;
  bool json = false;
  std::vector<std::string> words;
  std::vector<option> options;

  // Split the line into words, flags, settings and options with values.
  for (std::size_t i = 0; i < arguments.size(); ++i) {
    const std::string_view argument = arguments[i];
    if (argument == "--help" || argument == "-h") {
      help = true;
      continue;
    }
    if (argument == "--json") {
      json = true;
      continue;
    }
    if (!argument.starts_with("--") || argument.size() == 2) {
      words.emplace_back(argument);
      continue;
    }
    const std::string_view body = argument.substr(2);
    const auto equals = body.find('=');
    std::string name(body.substr(0, equals));
    const bool known =
        name == "description" || name == "label" || tenants::find_limit_field(name) != nullptr ||
        std::find(setting_names.begin(), setting_names.end(), name) != setting_names.end();
    if (!known) {
      return fail("unknown option --" + name);
    }
    std::string value;
    if (equals != std::string_view::npos) {
      value = std::string(body.substr(equals + 1));
    } else if (i + 1 < arguments.size()) {
      value = std::string(arguments[++i]);
    } else {
      return fail("option --" + name + " needs a value");
    }
    if (std::find(setting_names.begin(), setting_names.end(), name) != setting_names.end()) {
      parsed.settings.push_back("--" + name);
      parsed.settings.push_back(std::move(value));
    } else {
      options.push_back({std::move(name), std::move(value)});
    }
  }

  // Find the command.
  if (words.empty()) {
    if (help) {
      parsed.help = overall_usage();
      return parsed;
    }
    return fail("missing command");
  }
  if (words[0] != "tenant" && words[0] != "key") {
    return fail("unknown command '" + words[0] + "'");
  }
  if (words.size() < 2) {
    if (help) {
      parsed.help = overall_usage();
      return parsed;
    }
    return fail("missing subcommand after '" + words[0] + "'");
  }
  const command_spec* spec = find_command(words[0], words[1]);
  if (spec == nullptr) {
    return fail("unknown command '" + words[0] + " " + words[1] + "'");
  }
  if (help) {
    parsed.help = command_usage(*spec);
    return parsed;
  }

  // Check the operands and options of the command.
  admin_command command;
  command.action = spec->action;
  command.json = json;
  const std::vector<std::string> operands(words.begin() + 2, words.end());
  if (auto error = apply_operands(*spec, operands, command)) {
    return *error;
  }
  if (auto error = apply_options(*spec, options, command)) {
    return *error;
  }
  if (spec->action == admin_action::tenant_set && command.limits.empty()) {
    return fail("'tenant set' needs at least one --LIMIT VALUE", command_usage(*spec));
  }
  parsed.command = std::move(command);
  return parsed;
}

}  // namespace jobgate::admin
