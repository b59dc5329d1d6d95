#include "common/config/settings_reader.hpp"

#include <algorithm>
#include <charconv>

namespace jobgate {

settings_reader::settings_reader(int argc, const char* const* argv, environment_lookup environment)
    : environment_(environment) {
  for (int i = 1; i < argc; ++i) {
    std::string_view argument = argv[i];
    if (argument == "--help" || argument == "-h") {
      help_requested_ = true;
      continue;
    }
    if (!argument.starts_with("--")) {
      errors_.push_back("unexpected argument '" + std::string(argument) +
                        "': settings are given as --name=value or --name value");
      continue;
    }
    argument.remove_prefix(2);
    const auto equals = argument.find('=');
    if (equals != std::string_view::npos) {
      flags_[std::string(argument.substr(0, equals))] = std::string(argument.substr(equals + 1));
    } else if (i + 1 < argc) {
      flags_[std::string(argument)] = argv[++i];
    } else {
      errors_.push_back("flag --" + std::string(argument) + " needs a value");
    }
  }
}

std::string settings_reader::variable_name(std::string_view name) {
  std::string variable = "JOBGATE_";
  for (const char c : name) {
    variable += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return variable;
}

std::optional<std::string> settings_reader::raw(std::string_view name) {
  known_.emplace_back(name);
  if (const auto flag = flags_.find(name); flag != flags_.end()) {
    return flag->second;
  }
  if (const char* value = environment_(variable_name(name).c_str())) {
    return std::string(value);
  }
  return std::nullopt;
}

void settings_reader::describe(std::string_view name, std::string_view fallback,
                               std::string_view help) {
  std::string line = "  --" + std::string(name) + " (" + variable_name(name) + ")";
  line += fallback.empty() ? ", no default" : ", default " + std::string(fallback);
  line += ": " + std::string(help);
  usage_lines_.push_back(std::move(line));
}

std::string settings_reader::text(std::string_view name, std::string_view fallback,
                                  std::string_view help) {
  describe(name, fallback, help);
  return raw(name).value_or(std::string(fallback));
}

std::int64_t settings_reader::integer(std::string_view name, std::int64_t fallback,
                                      std::int64_t min, std::int64_t max, std::string_view unit,
                                      std::string_view help) {
  describe(name, std::to_string(fallback) + " " + std::string(unit),
           std::string(help) + " (" + std::to_string(min) + " to " + std::to_string(max) + ")");
  const auto value = raw(name);
  if (!value) {
    return fallback;
  }
  std::int64_t parsed = 0;
  const auto [end, error] = std::from_chars(value->data(), value->data() + value->size(), parsed);
  if (error != std::errc{} || end != value->data() + value->size()) {
    reject(name, "'" + *value + "' is not a whole number of " + std::string(unit));
    return fallback;
  }
  if (parsed < min || parsed > max) {
    reject(name, std::to_string(parsed) + " is outside " + std::to_string(min) + " to " +
                     std::to_string(max) + " " + std::string(unit));
    return fallback;
  }
  return parsed;
}

std::vector<std::string> settings_reader::list(std::string_view name, std::string_view fallback,
                                               std::string_view help) {
  const std::string joined = text(name, fallback, help);
  std::vector<std::string> items;
  std::string_view rest = joined;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    while (!item.empty() && item.front() == ' ') {
      item.remove_prefix(1);
    }
    while (!item.empty() && item.back() == ' ') {
      item.remove_suffix(1);
    }
    if (!item.empty()) {
      items.emplace_back(item);
    }
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return items;
}

void settings_reader::reject(std::string_view name, std::string_view problem) {
  errors_.push_back("invalid setting --" + std::string(name) + " (" + variable_name(name) +
                    "): " + std::string(problem));
}

std::vector<std::string> settings_reader::errors() const {
  // Unknown flags are reported here, after every setting was read, so a typo never passes silently.
  std::vector<std::string> all = errors_;
  for (const auto& [flag, value] : flags_) {
    if (std::find(known_.begin(), known_.end(), flag) == known_.end()) {
      all.push_back("unknown flag --" + flag);
    }
  }
  return all;
}

std::string settings_reader::usage() const {
  std::string text;
  for (const auto& line : usage_lines_) {
    text += line + "\n";
  }
  return text;
}

void read_log_settings(settings_reader& reader, log::output_format& format, log::level& level) {
  const std::string format_name =
      reader.text("log-format", "text", "log line format: text or json");
  if (format_name == "json") {
    format = log::output_format::json;
  } else if (format_name != "text") {
    reader.reject("log-format", "'" + format_name + "' is neither text nor json");
  }
  const std::string level_name = reader.text("log-level", "info", "debug, info, warn or error");
  if (!log::parse_level(level_name, level)) {
    reader.reject("log-level", "'" + level_name + "' is not one of debug, info, warn, error");
  }
}

std::string mask_secret(std::string_view secret) {
  return secret.empty() ? "(empty)" : "(" + std::to_string(secret.size()) + " characters)";
}

}  // namespace jobgate
