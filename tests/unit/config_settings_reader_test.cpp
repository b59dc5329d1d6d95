#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "common/config/settings_reader.hpp"

namespace {

using jobgate::settings_reader;

// The variables a test sets. settings_reader takes a plain function pointer, so they live here.
std::map<std::string, std::string> test_environment;

const char* lookup(const char* name) {
  const auto found = test_environment.find(name);
  return found == test_environment.end() ? nullptr : found->second.c_str();
}

// Builds a reader over argv {"daemon", arguments...} and the given variables.
settings_reader make_reader(const std::vector<std::string>& arguments,
                            std::map<std::string, std::string> variables = {}) {
  test_environment = std::move(variables);
  std::vector<const char*> argv = {"daemon"};
  for (const auto& argument : arguments) {
    argv.push_back(argument.c_str());
  }
  return settings_reader(static_cast<int>(argv.size()), argv.data(), lookup);
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("settings variable name", "[config]") {
  CHECK(settings_reader::variable_name("http-port") == "JOBGATE_HTTP_PORT");
  CHECK(settings_reader::variable_name("kinds") == "JOBGATE_KINDS");
  CHECK(settings_reader::variable_name("max-poll-interval") == "JOBGATE_MAX_POLL_INTERVAL");
}

TEST_CASE("settings flag beats variable", "[config]") {
  auto reader = make_reader({"--blob-dir=/from/flag"}, {{"JOBGATE_BLOB_DIR", "/from/variable"}});
  CHECK(reader.text("blob-dir", "/default", "help") == "/from/flag");
  CHECK(reader.errors().empty());
}

TEST_CASE("settings variable beats default", "[config]") {
  auto reader = make_reader({}, {{"JOBGATE_BLOB_DIR", "/from/variable"}});
  CHECK(reader.text("blob-dir", "/default", "help") == "/from/variable");
  CHECK(reader.errors().empty());
}

TEST_CASE("settings default when unset", "[config]") {
  auto reader = make_reader({});
  CHECK(reader.text("blob-dir", "/default", "help") == "/default");
  CHECK(reader.integer("threads", 4, 1, 64, "threads", "help") == 4);
  CHECK(reader.list("kinds", "a, b", "help") == std::vector<std::string>{"a", "b"});
  CHECK(reader.errors().empty());
}

TEST_CASE("settings flag with separate value", "[config]") {
  auto reader = make_reader({"--threads", "8", "--blob-dir", "/data"});
  CHECK(reader.integer("threads", 2, 1, 64, "threads", "help") == 8);
  CHECK(reader.text("blob-dir", "/default", "help") == "/data");
  CHECK(reader.errors().empty());
}

TEST_CASE("settings integer flag beats variable", "[config]") {
  auto reader = make_reader({"--threads=3"}, {{"JOBGATE_THREADS", "5"}});
  CHECK(reader.integer("threads", 2, 1, 64, "threads", "help") == 3);

  auto from_variable = make_reader({}, {{"JOBGATE_THREADS", "5"}});
  CHECK(from_variable.integer("threads", 2, 1, 64, "threads", "help") == 5);
}

TEST_CASE("settings integer bounds are inclusive", "[config]") {
  auto low = make_reader({"--threads=1"});
  CHECK(low.integer("threads", 2, 1, 64, "threads", "help") == 1);
  CHECK(low.errors().empty());

  auto high = make_reader({"--threads=64"});
  CHECK(high.integer("threads", 2, 1, 64, "threads", "help") == 64);
  CHECK(high.errors().empty());
}

TEST_CASE("settings integer outside bounds", "[config]") {
  const std::string value = GENERATE("0", "65", "-1");
  auto reader = make_reader({"--threads=" + value});
  CHECK(reader.integer("threads", 2, 1, 64, "threads", "help") == 2);
  const auto errors = reader.errors();
  REQUIRE(errors.size() == 1);
  CHECK(contains(errors[0], "--threads"));
  CHECK(contains(errors[0], "JOBGATE_THREADS"));
  CHECK(contains(errors[0], "1 to 64"));
}

TEST_CASE("settings integer not a number", "[config]") {
  const std::string value = GENERATE("abc", "12abc", "", " 5", "1.5", "99999999999999999999");
  auto reader = make_reader({}, {{"JOBGATE_THREADS", value}});
  CHECK(reader.integer("threads", 2, 1, 64, "threads", "help") == 2);
  const auto errors = reader.errors();
  REQUIRE(errors.size() == 1);
  CHECK(contains(errors[0], "--threads"));
  CHECK(contains(errors[0], "not a whole number of threads"));
}

TEST_CASE("settings unknown flag", "[config]") {
  auto reader = make_reader({"--threads=3", "--thread=4"});
  reader.integer("threads", 2, 1, 64, "threads", "help");
  const auto errors = reader.errors();
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == "unknown flag --thread");
}

TEST_CASE("settings unknown variable is ignored", "[config]") {
  auto reader = make_reader({}, {{"JOBGATE_NOT_A_SETTING", "1"}});
  reader.integer("threads", 2, 1, 64, "threads", "help");
  CHECK(reader.errors().empty());
}

TEST_CASE("settings positional argument", "[config]") {
  auto reader = make_reader({"imports"});
  const auto errors = reader.errors();
  REQUIRE(errors.size() == 1);
  CHECK(contains(errors[0], "unexpected argument 'imports'"));
}

TEST_CASE("settings flag missing value", "[config]") {
  auto reader = make_reader({"--threads"});
  reader.integer("threads", 2, 1, 64, "threads", "help");
  const auto errors = reader.errors();
  REQUIRE(errors.size() == 1);
  CHECK(contains(errors[0], "--threads needs a value"));
}

TEST_CASE("settings help flag", "[config]") {
  const std::string flag = GENERATE("--help", "-h");
  auto reader = make_reader({flag});
  CHECK(reader.help_requested());
  reader.integer("threads", 2, 1, 64, "threads", "threads that run the io_context");
  reader.text("blob-dir", "", "directory for uploads");
  CHECK(reader.errors().empty());

  const std::string usage = reader.usage();
  CHECK(contains(usage,
                 "--threads (JOBGATE_THREADS), default 2 threads: threads that run the "
                 "io_context (1 to 64)\n"));
  CHECK(contains(usage, "--blob-dir (JOBGATE_BLOB_DIR), no default: directory for uploads\n"));
}

TEST_CASE("settings no help by default", "[config]") {
  auto reader = make_reader({"--threads=2"});
  CHECK_FALSE(reader.help_requested());
}

TEST_CASE("settings list trims items", "[config]") {
  auto reader = make_reader({"--kinds= imports , ,exports,"});
  CHECK(reader.list("kinds", "", "help") == std::vector<std::string>{"imports", "exports"});
  auto empty = make_reader({"--kinds="});
  CHECK(empty.list("kinds", "imports", "help").empty());
}

TEST_CASE("settings reject names setting", "[config]") {
  auto reader = make_reader({});
  reader.reject("signing-secret", "must be at least 32 characters");
  const auto errors = reader.errors();
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] ==
        "invalid setting --signing-secret (JOBGATE_SIGNING_SECRET): must be at least 32 "
        "characters");
}

TEST_CASE("settings errors are all reported", "[config]") {
  auto reader = make_reader({"--threads=0", "--port=x", "--typo=1"});
  reader.integer("threads", 2, 1, 64, "threads", "help");
  reader.integer("port", 80, 0, 65535, "port", "help");
  CHECK(reader.errors().size() == 3);
}

TEST_CASE("log settings parse", "[config]") {
  auto reader = make_reader({"--log-format=json", "--log-level=warn"});
  auto format = jobgate::log::output_format::text;
  auto level = jobgate::log::level::info;
  jobgate::read_log_settings(reader, format, level);
  CHECK(format == jobgate::log::output_format::json);
  CHECK(level == jobgate::log::level::warn);
  CHECK(reader.errors().empty());
}

TEST_CASE("log settings reject bad values", "[config]") {
  auto reader = make_reader({"--log-format=xml", "--log-level=verbose"});
  auto format = jobgate::log::output_format::text;
  auto level = jobgate::log::level::info;
  jobgate::read_log_settings(reader, format, level);
  CHECK(format == jobgate::log::output_format::text);
  CHECK(level == jobgate::log::level::info);
  const auto errors = reader.errors();
  REQUIRE(errors.size() == 2);
  CHECK(contains(errors[0], "--log-format"));
  CHECK(contains(errors[0], "'xml'"));
  CHECK(contains(errors[1], "--log-level"));
  CHECK(contains(errors[1], "'verbose'"));
}

TEST_CASE("mask secret shows length only", "[config]") {
  CHECK(jobgate::mask_secret("") == "(empty)");
  CHECK(jobgate::mask_secret("hunter2") == "(7 characters)");
}
