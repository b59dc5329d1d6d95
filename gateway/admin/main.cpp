#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string_view>
#include <vector>

#include "common/config/settings_reader.hpp"
#include "common/redis/connection.hpp"
#include "common/redis/redis_endpoint.hpp"
#include "common/tenants/tenant_store.hpp"
#include "gateway/admin/admin_arguments.hpp"
#include "gateway/admin/admin_runner.hpp"

using namespace jobgate;

int main(int argc, char** argv) {
  const std::vector<std::string_view> arguments(argv + 1, argv + argc);
  auto parsed = admin::parse_admin_arguments(arguments);
  if (!parsed) {
    // The synopsis line only, so the error stays in view.
    const std::string& usage = parsed.error().usage;
    std::cerr << "jobgate-admin: " << parsed.error().message << "\n"
              << usage.substr(0, usage.find('\n')) << "\nRun with --help for details.\n";
    return admin::exit_usage;
  }
  if (!parsed->command) {
    std::cout << parsed->help;
    return admin::exit_success;
  }

  // The settings come from flags and JOBGATE_* variables, as the daemons read theirs.
  std::vector<const char*> setting_argv = {argv[0]};
  for (const auto& item : parsed->settings) {
    setting_argv.push_back(item.c_str());
  }
  settings_reader reader(static_cast<int>(setting_argv.size()), setting_argv.data(),
                         [](const char* name) -> const char* { return std::getenv(name); });
  const std::string redis_url =
      reader.text("redis-url", "redis://127.0.0.1:6379", "Redis server URL");
  if (const auto errors = reader.errors(); !errors.empty()) {
    for (const auto& error : errors) {
      std::cerr << "jobgate-admin: " << error << "\n";
    }
    return admin::exit_usage;
  }
  const auto endpoint = redis::parse_redis_url(redis_url);
  if (!endpoint) {
    std::cerr << "jobgate-admin: invalid setting --redis-url (JOBGATE_REDIS_URL): "
              << endpoint.error().message() << "\n";
    return admin::exit_usage;
  }

  // A Redis server that closed the socket must give a write error, not end the process.
  std::signal(SIGPIPE, SIG_IGN);
  auto connection = redis::connection::connect(*endpoint);
  if (!connection) {
    std::cerr << "jobgate-admin: connecting to Redis at " << redis::masked_redis_url(redis_url)
              << " failed: " << connection.error().message()
              << ". Set --redis-url or JOBGATE_REDIS_URL to the Redis of the gateways; the local "
                 "stack writes it to .run/stack/stack.env.\n";
    return admin::exit_failure;
  }
  tenants::tenant_store store(*connection);
  return admin::run_admin_command(*parsed->command, store, std::cout, std::cerr);
}
