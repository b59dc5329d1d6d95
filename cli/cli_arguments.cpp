#include "cli/cli_arguments.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace jobgate::cli {

namespace {

// Options that take a value, and --wait, as bits of the per-command allow lists.
enum class option : unsigned {
  object = 1u << 0,
  map = 1u << 1,
  name = 1u << 2,
  wait = 1u << 3,
  properties = 1u << 4,
  format = 1u << 5,
  output = 1u << 6,
  status = 1u << 7,
  kind = 1u << 8,
  limit = 1u << 9,
  after = 1u << 10,
};

constexpr unsigned operator|(option left, option right) {
  return static_cast<unsigned>(left) | static_cast<unsigned>(right);
}
constexpr unsigned operator|(unsigned left, option right) {
  return left | static_cast<unsigned>(right);
}

struct command_spec {
  std::string_view name;
  cli_action action;
  std::string_view operand;  // "FILE", "ID" or empty
  unsigned options;
  std::string_view help;
};

constexpr std::string_view global_options =
    "\nOptions of every command:\n"
    "  --url URL          gateway base URL (default $JOBGATE_URL, else http://127.0.0.1:8080)\n"
    "  --api-key KEY      API key (default $JOBGATE_API_KEY)\n"
    "  --json             print the API's JSON instead of text\n"
    "  -h, --help         print this help\n";

const std::array<command_spec, 8> commands = {{
    {"import", cli_action::import_file, "FILE",
     option::object | option::map | option::name | option::wait,
     "Usage: jobgate import FILE --object contacts|companies [--map COLUMN=PROPERTY ...]\n"
     "                      [--name NAME] [--wait]\n"
     "Uploads a CSV file as an import job and prints the job id.\n\n"
     "  --object TYPE      object type of the rows: contacts or companies (required)\n"
     "  --map C=P          maps the CSV column C to the property P; repeat for each column.\n"
     "                     Without --map, columns map to the property of the same name or label\n"
     "  --name NAME        job name (default: the file name)\n"
     "  --wait             follow the job until it finishes and print its counts\n"},
    {"export", cli_action::export_records, "",
     option::object | option::properties | option::format | option::name | option::wait |
         option::output,
     "Usage: jobgate export --object contacts|companies --properties P1,P2,...\n"
     "                      [--format csv|ndjson] [--name NAME] [--wait] [-o FILE]\n"
     "Starts an export job and prints the job id.\n\n"
     "  --object TYPE      object type to export: contacts or companies (required)\n"
     "  --properties LIST  comma-separated property names, the file's columns (required)\n"
     "  --format FORMAT    csv (default) or ndjson\n"
     "  --name NAME        job name\n"
     "  --wait             follow the job until it finishes\n"
     "  -o, --output FILE  wait for the job and download its file to FILE\n"},
    {"status", cli_action::status, "ID", 0,
     "Usage: jobgate status ID\n"
     "Prints the state, progress and counts of a job.\n"},
    {"wait", cli_action::wait, "ID", 0,
     "Usage: jobgate wait ID\n"
     "Follows a job until it finishes, with a progress bar on a terminal.\n"
     "Exits 0 when the job is DONE, 3 when it FAILED and 4 when it was CANCELED.\n"},
    {"errors", cli_action::errors, "ID", static_cast<unsigned>(option::output),
     "Usage: jobgate errors ID [-o FILE]\n"
     "Lists the rejected rows of an import.\n\n"
     "  -o, --output FILE  write the CSV error report to FILE: the rejected rows as they were\n"
     "                     in the file, with the reason in extra columns\n"},
    {"cancel", cli_action::cancel, "ID", 0,
     "Usage: jobgate cancel ID\n"
     "Cancels a PENDING or PROCESSING job.\n"},
    {"list", cli_action::list, "", option::status | option::kind | option::limit | option::after,
     "Usage: jobgate list [--status S1,S2,...] [--kind imports|exports] [--limit N] [--after C]\n"
     "Lists jobs, newest first.\n\n"
     "  --status LIST      only jobs in these states: PENDING, PROCESSING, DONE, FAILED, CANCELED\n"
     "  --kind KIND        only imports or only exports (default: both)\n"
     "  --limit N          jobs per page, 1 to 100 (default 20)\n"
     "  --after CURSOR     show the page after CURSOR, as printed below a full page\n"},
    {"download", cli_action::download, "ID", static_cast<unsigned>(option::output),
     "Usage: jobgate download ID -o FILE\n"
     "Downloads the file of a finished export.\n\n"
     "  -o, --output FILE  the file to write (required)\n"},
}};

constexpr std::string_view overall_usage =
    "Usage: jobgate COMMAND [OPTIONS]\n"
    "A client for the jobgate job API.\n\n"
    "Commands:\n"
    "  import FILE        upload a CSV file as an import job\n"
    "  export             start an export job\n"
    "  status ID          show a job\n"
    "  wait ID            follow a job until it finishes\n"
    "  errors ID          list the rejected rows of an import\n"
    "  cancel ID          cancel a job\n"
    "  list               list jobs\n"
    "  download ID        download the file of a finished export\n\n"
    "Run 'jobgate COMMAND --help' for the options of a command.\n";

struct value_option {
  std::string_view flag;
  option kind;
};

constexpr std::array<value_option, 11> value_options = {{
    {"--object", option::object},
    {"--map", option::map},
    {"--name", option::name},
    {"--properties", option::properties},
    {"--format", option::format},
    {"--output", option::output},
    {"-o", option::output},
    {"--status", option::status},
    {"--kind", option::kind},
    {"--limit", option::limit},
    {"--after", option::after},
}};

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> items;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto item = text.substr(0, comma);
    if (!item.empty()) {
      items.emplace_back(item);
    }
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  return items;
}

std::string upper(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return result;
}

// Collects the command line before the per-command checks.
class parser {
 public:
  boost::system::result<cli_arguments, usage_error> parse(
      std::span<const std::string_view> arguments);

 private:
  usage_error fail(std::string message) const {
    return usage_error{std::move(message), std::string(spec_ ? spec_->help : overall_usage) +
                                               std::string(global_options)};
  }
  boost::system::result<void, usage_error> apply(option flag_kind, std::string_view flag,
                                                 std::string_view value);
  boost::system::result<void, usage_error> check_command();

  const command_spec* spec_ = nullptr;
  cli_command command_;
  std::vector<std::string> operands_;
  unsigned seen_ = 0;
};

boost::system::result<cli_arguments, usage_error> parser::parse(
    std::span<const std::string_view> arguments) {
  bool help = false;
  for (std::size_t i = 0; i < arguments.size(); ++i) {
    std::string_view argument = arguments[i];

    // "--flag=value" is the same as "--flag value".
    std::optional<std::string_view> inline_value;
    if (argument.starts_with("--")) {
      if (const auto equals = argument.find('='); equals != std::string_view::npos) {
        inline_value = argument.substr(equals + 1);
        argument = argument.substr(0, equals);
      }
    }
    const auto take_value = [&]() -> std::optional<std::string_view> {
      if (inline_value) {
        return inline_value;
      }
      if (i + 1 < arguments.size()) {
        return arguments[++i];
      }
      return std::nullopt;
    };

    if (argument == "-h" || argument == "--help") {
      help = true;
    } else if (argument == "--json") {
      command_.json = true;
    } else if (argument == "--wait") {
      seen_ |= static_cast<unsigned>(option::wait);
      command_.wait = true;
    } else if (argument == "--url" || argument == "--api-key") {
      const auto value = take_value();
      if (!value) {
        return fail(std::string(argument) + " needs a value");
      }
      (argument == "--url" ? command_.url : command_.api_key) = std::string(*value);
    } else if (argument.starts_with("-") && argument.size() > 1) {
      const auto found = std::find_if(value_options.begin(), value_options.end(),
                                      [&](const value_option& o) { return o.flag == argument; });
      if (found == value_options.end()) {
        return fail("unknown option " + std::string(argument));
      }
      const auto value = take_value();
      if (!value) {
        return fail(std::string(argument) + " needs a value");
      }
      if (auto applied = apply(found->kind, argument, *value); !applied) {
        return applied.error();
      }
    } else if (!spec_) {
      const auto found = std::find_if(commands.begin(), commands.end(),
                                      [&](const command_spec& c) { return c.name == argument; });
      if (found == commands.end()) {
        return fail("unknown command '" + std::string(argument) + "'");
      }
      spec_ = &*found;
      command_.action = found->action;
    } else {
      operands_.emplace_back(argument);
    }
  }

  if (help) {
    const std::string text =
        std::string(spec_ ? spec_->help : overall_usage) + std::string(global_options);
    return cli_arguments{std::nullopt, text};
  }
  if (!spec_) {
    return fail("a command is required");
  }
  if (auto checked = check_command(); !checked) {
    return checked.error();
  }
  return cli_arguments{std::move(command_), {}};
}

boost::system::result<void, usage_error> parser::apply(option flag_kind, std::string_view flag,
                                                       std::string_view value) {
  seen_ |= static_cast<unsigned>(flag_kind);
  switch (flag_kind) {
    case option::object:
      if (value != "contacts" && value != "companies") {
        return fail("--object must be contacts or companies, not '" + std::string(value) + "'");
      }
      command_.object_type = std::string(value);
      break;
    case option::map: {
      // Property names never contain '=', so the last '=' separates even a column named "a=b".
      const auto equals = value.rfind('=');
      if (equals == std::string_view::npos || equals == 0 || equals + 1 == value.size()) {
        return fail("--map needs COLUMN=PROPERTY, such as \"Email=email\", not '" +
                    std::string(value) + "'");
      }
      command_.mappings.push_back(
          {std::string(value.substr(0, equals)), std::string(value.substr(equals + 1))});
      break;
    }
    case option::name:
      command_.name = std::string(value);
      break;
    case option::properties:
      command_.properties = split_list(value);
      if (command_.properties.empty()) {
        return fail("--properties needs at least one property name");
      }
      break;
    case option::format:
      if (value != "csv" && value != "ndjson") {
        return fail("--format must be csv or ndjson, not '" + std::string(value) + "'");
      }
      command_.format = std::string(value);
      break;
    case option::output:
      if (value.empty()) {
        return fail(std::string(flag) + " needs a file name");
      }
      command_.output = std::string(value);
      break;
    case option::status:
      command_.statuses.clear();
      for (const auto& item : split_list(value)) {
        std::string status = upper(item);
        if (status != "PENDING" && status != "PROCESSING" && status != "DONE" &&
            status != "FAILED" && status != "CANCELED") {
          return fail("--status takes PENDING, PROCESSING, DONE, FAILED or CANCELED, not '" + item +
                      "'");
        }
        command_.statuses.push_back(std::move(status));
      }
      break;
    case option::kind:
      if (value != "imports" && value != "exports") {
        return fail("--kind must be imports or exports, not '" + std::string(value) + "'");
      }
      command_.kind = std::string(value);
      break;
    case option::limit: {
      int limit = 0;
      const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), limit);
      if (error != std::errc{} || end != value.data() + value.size() || limit < 1 || limit > 100) {
        return fail("--limit must be a number from 1 to 100, not '" + std::string(value) + "'");
      }
      command_.limit = limit;
      break;
    }
    case option::after:
      command_.after = std::string(value);
      break;
    case option::wait:
      break;
  }
  return {};
}

boost::system::result<void, usage_error> parser::check_command() {
  // Options that the command does not take, in the order of the option enum.
  const unsigned extra = seen_ & ~spec_->options;
  if (extra != 0) {
    for (const auto& known : value_options) {
      if ((extra & static_cast<unsigned>(known.kind)) != 0 && known.flag != "-o") {
        return fail("jobgate " + std::string(spec_->name) + " takes no " + std::string(known.flag) +
                    " option");
      }
    }
    return fail("jobgate " + std::string(spec_->name) + " takes no --wait option");
  }

  const bool wants_operand = !spec_->operand.empty();
  if (wants_operand && operands_.empty()) {
    return fail("jobgate " + std::string(spec_->name) + " needs " + std::string(spec_->operand));
  }
  const std::size_t allowed = wants_operand ? 1 : 0;
  if (operands_.size() > allowed) {
    return fail("unexpected argument '" + operands_[allowed] + "'");
  }
  if (wants_operand) {
    (spec_->operand == "FILE" ? command_.file : command_.job_id) = operands_.front();
  }

  switch (command_.action) {
    case cli_action::import_file:
    case cli_action::export_records:
      if (command_.object_type.empty()) {
        return fail("--object is required");
      }
      break;
    case cli_action::download:
      if (command_.output.empty()) {
        return fail("-o FILE is required");
      }
      break;
    default:
      break;
  }
  if (command_.action == cli_action::export_records) {
    if (command_.properties.empty()) {
      return fail("--properties is required");
    }
    // A file to write needs a finished job first.
    if (!command_.output.empty()) {
      command_.wait = true;
    }
  }
  return {};
}

}  // namespace

boost::system::result<cli_arguments, usage_error> parse_cli_arguments(
    std::span<const std::string_view> arguments) {
  return parser{}.parse(arguments);
}

}  // namespace jobgate::cli
