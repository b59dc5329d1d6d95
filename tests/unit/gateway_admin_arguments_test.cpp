#include <catch2/catch.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/admin/admin_arguments.hpp"

namespace {

using jobgate::admin::admin_action;
using jobgate::admin::admin_arguments;
using jobgate::admin::usage_error;

boost::system::result<admin_arguments, usage_error> parse(
    const std::vector<std::string_view>& arguments) {
  return jobgate::admin::parse_admin_arguments(arguments);
}

// The message of a usage error, or "" when the line parsed.
std::string usage_message(const std::vector<std::string_view>& words) {
  const auto parsed = parse(words);
  return parsed ? std::string{} : parsed.error().message;
}

}  // namespace

TEST_CASE("admin parses tenant create", "[admin]") {
  const auto parsed = parse({"tenant", "create", "acme", "--description", "Acme Corp",
                             "--submit-burst", "3", "--read-rate-limit=default", "--json"});
  REQUIRE(parsed.has_value());
  REQUIRE(parsed->command.has_value());
  const auto& command = *parsed->command;
  CHECK(command.action == admin_action::tenant_create);
  CHECK(command.tenant == "acme");
  CHECK(command.description == "Acme Corp");
  CHECK(command.json);
  REQUIRE(command.limits.size() == 2);
  CHECK(command.limits[0].name == "submit-burst");
  CHECK(command.limits[0].value == std::optional<std::string>("3"));
  CHECK(command.limits[1].name == "read-rate-limit");
  CHECK_FALSE(command.limits[1].value.has_value());
  CHECK(parsed->settings.empty());
}

TEST_CASE("admin parses every command", "[admin]") {
  struct line {
    std::vector<std::string_view> words;
    admin_action action;
  };
  const std::vector<line> lines = {
      {{"tenant", "set", "acme", "--exports-per-day", "5"}, admin_action::tenant_set},
      {{"tenant", "show", "acme"}, admin_action::tenant_show},
      {{"tenant", "list"}, admin_action::tenant_list},
      {{"key", "create", "acme", "--label", "ci"}, admin_action::key_create},
      {{"key", "list", "acme"}, admin_action::key_list},
      {{"key", "revoke", "acme", "key_0123456789ab"}, admin_action::key_revoke},
  };
  for (const auto& [words, action] : lines) {
    const auto parsed = parse(words);
    INFO("command " << words[0] << " " << words[1]);
    REQUIRE(parsed.has_value());
    REQUIRE(parsed->command.has_value());
    CHECK(parsed->command->action == action);
    CHECK_FALSE(parsed->command->json);
  }
  const auto revoke = parse({"key", "revoke", "acme", "key_0123456789ab"});
  CHECK(revoke->command->tenant == "acme");
  CHECK(revoke->command->key_id == "key_0123456789ab");
  CHECK(parse({"key", "create", "acme", "--label", "ci"})->command->label == "ci");
}

TEST_CASE("admin separates settings", "[admin]") {
  const auto parsed =
      parse({"--redis-url", "redis://127.0.0.1:7000", "tenant", "list", "--redis-url=x"});
  REQUIRE(parsed.has_value());
  REQUIRE(parsed->command.has_value());
  CHECK(parsed->settings ==
        std::vector<std::string>{"--redis-url", "redis://127.0.0.1:7000", "--redis-url", "x"});
}

TEST_CASE("admin help at every level", "[admin]") {
  const auto overall = parse({"--help"});
  REQUIRE(overall.has_value());
  CHECK_FALSE(overall->command.has_value());
  CHECK(overall->help.find("tenant create") != std::string::npos);
  CHECK(overall->help.find("key revoke") != std::string::npos);

  const auto group = parse({"key", "-h"});
  REQUIRE(group.has_value());
  CHECK_FALSE(group->command.has_value());
  CHECK(group->help.find("Commands:") != std::string::npos);

  // Help wins over missing operands and lists every limit option.
  const auto command = parse({"tenant", "set", "--help"});
  REQUIRE(command.has_value());
  CHECK_FALSE(command->command.has_value());
  CHECK(command->help.starts_with("Usage: jobgate-admin tenant set NAME"));
  CHECK(command->help.find("--running-exports") != std::string::npos);
  CHECK(command->help.find("--json") != std::string::npos);
}

TEST_CASE("admin usage errors name the argument", "[admin]") {
  CHECK(usage_message({}) == "missing command");
  CHECK(usage_message({"tenants", "list"}) == "unknown command 'tenants'");
  CHECK(usage_message({"tenant"}) == "missing subcommand after 'tenant'");
  CHECK(usage_message({"tenant", "drop", "acme"}) == "unknown command 'tenant drop'");
  CHECK(usage_message({"tenant", "show"}) == "'tenant show' needs NAME");
  CHECK(usage_message({"tenant", "show", "a", "b"}) == "unexpected argument 'b'");
  CHECK(usage_message({"key", "revoke", "acme"}) == "'key revoke' needs TENANT KEY_ID");
  CHECK(usage_message({"tenant", "show", "acme corp"})
            .starts_with("invalid tenant name 'acme corp'"));
  CHECK(usage_message({"key", "revoke", "acme", "jg_secret"})
            .starts_with("invalid key id 'jg_secret'"));
  CHECK(usage_message({"tenant", "list", "--label", "x"}) ==
        "unknown option --label for 'tenant list'");
  CHECK(usage_message({"key", "create", "acme", "--submit-burst", "3"}) ==
        "unknown option --submit-burst for 'key create'");
  CHECK(usage_message({"tenant", "create", "acme", "--burst", "3"}) == "unknown option --burst");
  CHECK(usage_message({"--version"}) == "unknown option --version");
  CHECK(usage_message({"tenant", "list", "--bogus", "x"}) == "unknown option --bogus");
  CHECK(usage_message({"tenant", "create", "acme", "--description", "two\nlines"})
            .starts_with("invalid value for --description: at most 200 characters"));
  CHECK(usage_message({"key", "create", "acme", "--label", std::string(201, 'x')})
            .starts_with("invalid value for --label:"));
  CHECK(usage_message({"tenant", "set", "acme"}) ==
        "'tenant set' needs at least one --LIMIT VALUE");
  CHECK(usage_message({"tenant", "create", "acme", "--label"}) == "option --label needs a value");
  CHECK(usage_message({"tenant", "set", "acme", "--read-burst", "1", "--read-burst", "2"}) ==
        "option --read-burst is given twice");
}

TEST_CASE("admin limit values are checked", "[admin]") {
  const auto zero_burst = usage_message({"tenant", "set", "acme", "--submit-burst", "0"});
  CHECK(zero_burst.starts_with("invalid value for --submit-burst:"));
  CHECK(zero_burst.find("from 1 to 1000000") != std::string::npos);
  CHECK(usage_message({"tenant", "set", "acme", "--rows-per-day", "-1"})
            .starts_with("invalid value for --rows-per-day:"));
  CHECK(usage_message({"tenant", "set", "acme", "--rows-per-day", "12rows"})
            .starts_with("invalid value for --rows-per-day:"));
  CHECK(usage_message({"tenant", "set", "acme", "--rows-per-day", ""})
            .starts_with("invalid value for --rows-per-day:"));
  CHECK(usage_message({"tenant", "set", "acme", "--rows-per-day", "0"}).empty());
  CHECK(usage_message({"tenant", "set", "acme", "--rows-per-day", "default"}).empty());
}

TEST_CASE("limit change parsing", "[tenants]") {
  using jobgate::tenants::parse_limit_change;
  const auto set = parse_limit_change("running-imports", "4");
  REQUIRE(set.has_value());
  CHECK(set->name == "running-imports");
  CHECK(set->value == std::optional<std::string>("4"));

  const auto reset = parse_limit_change("running-imports", "default");
  REQUIRE(reset.has_value());
  CHECK_FALSE(reset->value.has_value());

  const auto unknown = parse_limit_change("burst", "4");
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error() == "'burst' is not a tenant limit");

  const auto high = parse_limit_change("running-imports", "10001");
  REQUIRE_FALSE(high.has_value());
  CHECK(high.error().find("from 0 to 10000") != std::string::npos);
  CHECK(high.error().find("'default'") != std::string::npos);
}
