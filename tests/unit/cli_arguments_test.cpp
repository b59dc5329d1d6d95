#include "cli/cli_arguments.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace {

using jobgate::cli::cli_action;
using jobgate::cli::cli_command;

jobgate::cli::cli_arguments parse_ok(const std::vector<std::string_view>& words) {
  auto parsed = jobgate::cli::parse_cli_arguments(words);
  INFO((parsed ? std::string() : parsed.error().message));
  REQUIRE(parsed.has_value());
  return std::move(*parsed);
}

cli_command command_of(const std::vector<std::string_view>& words) {
  auto parsed = parse_ok(words);
  REQUIRE(parsed.command);
  return std::move(*parsed.command);
}

// The message of a usage error, or "" when the line parsed.
std::string usage_message(const std::vector<std::string_view>& words) {
  auto parsed = jobgate::cli::parse_cli_arguments(words);
  return parsed ? std::string() : parsed.error().message;
}

}  // namespace

TEST_CASE("cli arguments: import with mappings and wait", "[cli]") {
  const auto command = command_of({"import", "contacts.csv", "--object", "contacts", "--map",
                                   "Email=email", "--map=First Name=firstname", "--wait"});
  CHECK(command.action == cli_action::import_file);
  CHECK(command.file == "contacts.csv");
  CHECK(command.object_type == "contacts");
  REQUIRE(command.mappings.size() == 2);
  CHECK(command.mappings[0].column_name == "Email");
  CHECK(command.mappings[0].property_name == "email");
  CHECK(command.mappings[1].column_name == "First Name");
  CHECK(command.mappings[1].property_name == "firstname");
  CHECK(command.wait);
  CHECK_FALSE(command.json);
}

TEST_CASE("cli arguments: mapping splits at the last equals sign", "[cli]") {
  const auto command =
      command_of({"import", "f.csv", "--object", "companies", "--map", "a=b=name"});
  REQUIRE(command.mappings.size() == 1);
  CHECK(command.mappings[0].column_name == "a=b");
  CHECK(command.mappings[0].property_name == "name");
}

TEST_CASE("cli arguments: invalid mappings are usage errors", "[cli]") {
  CHECK_THAT(usage_message({"import", "f.csv", "--object", "contacts", "--map", "Email"}),
             Catch::Contains("COLUMN=PROPERTY"));
  CHECK_THAT(usage_message({"import", "f.csv", "--object", "contacts", "--map", "=email"}),
             Catch::Contains("COLUMN=PROPERTY"));
  CHECK_THAT(usage_message({"import", "f.csv", "--object", "contacts", "--map", "Email="}),
             Catch::Contains("COLUMN=PROPERTY"));
}

TEST_CASE("cli arguments: export with output implies wait", "[cli]") {
  const auto command = command_of({"export", "--object", "contacts", "--properties",
                                   "email,firstname", "--format", "ndjson", "-o", "out.ndjson"});
  CHECK(command.action == cli_action::export_records);
  CHECK(command.properties == std::vector<std::string>{"email", "firstname"});
  CHECK(command.format == "ndjson");
  CHECK(command.output == "out.ndjson");
  CHECK(command.wait);
}

TEST_CASE("cli arguments: global options anywhere", "[cli]") {
  const auto command = command_of(
      {"--url", "http://127.0.0.1:9000", "status", "imp_1", "--json", "--api-key=secret"});
  CHECK(command.action == cli_action::status);
  CHECK(command.job_id == "imp_1");
  CHECK(command.json);
  REQUIRE(command.url);
  CHECK(*command.url == "http://127.0.0.1:9000");
  REQUIRE(command.api_key);
  CHECK(*command.api_key == "secret");
}

TEST_CASE("cli arguments: list filters", "[cli]") {
  const auto command =
      command_of({"list", "--status", "pending,Processing", "--kind", "exports", "--limit", "5"});
  CHECK(command.action == cli_action::list);
  CHECK(command.statuses == std::vector<std::string>{"PENDING", "PROCESSING"});
  CHECK(command.kind == "exports");
  CHECK(command.limit == 5);
  CHECK(command_of({"list"}).kind == "jobs");
}

TEST_CASE("cli arguments: usage errors", "[cli]") {
  CHECK_THAT(usage_message({}), Catch::Contains("a command is required"));
  CHECK_THAT(usage_message({"frobnicate"}), Catch::Contains("unknown command 'frobnicate'"));
  CHECK_THAT(usage_message({"import", "f.csv"}), Catch::Contains("--object is required"));
  CHECK_THAT(usage_message({"import", "--object", "contacts"}), Catch::Contains("needs FILE"));
  CHECK_THAT(usage_message({"import", "f.csv", "--object", "deals"}),
             Catch::Contains("contacts or companies"));
  CHECK_THAT(usage_message({"export", "--object", "contacts"}),
             Catch::Contains("--properties is required"));
  CHECK_THAT(usage_message(
                 {"export", "--object", "contacts", "--properties", "email", "--format", "xlsx"}),
             Catch::Contains("csv or ndjson"));
  CHECK_THAT(usage_message({"status"}), Catch::Contains("needs ID"));
  CHECK_THAT(usage_message({"status", "a", "b"}), Catch::Contains("unexpected argument 'b'"));
  CHECK_THAT(usage_message({"status", "a", "--wait"}), Catch::Contains("takes no --wait"));
  CHECK_THAT(usage_message({"cancel", "a", "-o", "f"}), Catch::Contains("takes no --output"));
  CHECK_THAT(usage_message({"download", "exp_1"}), Catch::Contains("-o FILE is required"));
  CHECK_THAT(usage_message({"list", "--status", "RUNNING"}), Catch::Contains("'RUNNING'"));
  CHECK_THAT(usage_message({"list", "--limit", "101"}), Catch::Contains("1 to 100"));
  CHECK_THAT(usage_message({"list", "--limit", "5x"}), Catch::Contains("1 to 100"));
  CHECK_THAT(usage_message({"status", "a", "--url"}), Catch::Contains("--url needs a value"));
  CHECK_THAT(usage_message({"status", "a", "--bogus"}), Catch::Contains("unknown option --bogus"));
}

TEST_CASE("cli arguments: usage error shows the command's usage", "[cli]") {
  auto parsed = jobgate::cli::parse_cli_arguments(std::vector<std::string_view>{"wait"});
  REQUIRE_FALSE(parsed.has_value());
  CHECK_THAT(parsed.error().usage, Catch::StartsWith("Usage: jobgate wait ID"));
  CHECK_THAT(parsed.error().usage, Catch::Contains("--api-key"));
}

TEST_CASE("cli arguments: help for every command", "[cli]") {
  for (const std::string_view name :
       {"import", "export", "status", "wait", "errors", "cancel", "list", "download"}) {
    INFO(name);
    const auto parsed = parse_ok({name, "--help"});
    CHECK_FALSE(parsed.command);
    CHECK_THAT(parsed.help, Catch::StartsWith("Usage: jobgate " + std::string(name)));
    CHECK_THAT(parsed.help, Catch::Contains("--url URL"));
  }
  const auto overall = parse_ok({"-h"});
  CHECK_FALSE(overall.command);
  CHECK_THAT(overall.help, Catch::Contains("download ID"));
}
