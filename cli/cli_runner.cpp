#include "cli/cli_runner.hpp"

#include <ostream>

#include "cli/command_session.hpp"
#include "cli/read_commands.hpp"
#include "cli/submit_commands.hpp"
#include "common/crypto/random.hpp"

namespace jobgate::cli {

namespace {

constexpr std::string_view default_url = "http://127.0.0.1:8080";

command_result dispatch(const command_session& run) {
  switch (run.command.action) {
    case cli_action::import_file:
      return run_import(run);
    case cli_action::export_records:
      return run_export(run);
    case cli_action::status:
      return run_status(run);
    case cli_action::wait:
      return wait_for_job(run, run.command.job_id);
    case cli_action::errors:
      return run_errors(run);
    case cli_action::cancel:
      return run_cancel(run);
    case cli_action::list:
      return run_list(run);
    case cli_action::download:
      // Without this check the gateway returns 404 job-not-found, because the id names no export.
      if (run.command.job_id.starts_with("imp_")) {
        return command_error{"jobgate: " + run.command.job_id +
                                 " is an import, and only export jobs have a file to download; "
                                 "write an import's rejected rows with 'jobgate errors " +
                                 run.command.job_id + " -o FILE'\n",
                             exit_usage};
      }
      return download_export(run, run.command.job_id);
  }
  return exit_usage;
}

}  // namespace

int run_cli_command(const cli_command& command, const cli_environment& environment) {
  const auto setting = [&](const std::optional<std::string>& flag, const char* variable) {
    if (flag) {
      return *flag;
    }
    const char* value = environment.variable(variable);
    return std::string(value ? value : "");
  };

  std::string url = setting(command.url, "JOBGATE_URL");
  if (url.empty()) {
    url = default_url;
  }
  const auto address = parse_gateway_url(url);
  if (!address) {
    environment.err << "jobgate: invalid --url or JOBGATE_URL: " << address.error().message << '\n';
    return exit_usage;
  }
  const std::string api_key = setting(command.api_key, "JOBGATE_API_KEY");
  if (api_key.empty()) {
    environment.err << "jobgate: an API key is required: set JOBGATE_API_KEY or pass --api-key\n";
    return exit_usage;
  }
  if (!command.job_id.empty() && !is_valid_job_id(command.job_id)) {
    environment.err << "jobgate: '" << command.job_id
                    << "' is not a job id; ids look like imp_0f3c... or exp_9a1b...\n";
    return exit_usage;
  }

  http_client client(*address, api_key, environment.err);
  const command_session run{command, environment, client, crypto::random_hex(16)};
  auto status = dispatch(run);
  environment.out << std::flush;
  if (!status) {
    environment.err << status.error().text;
    return status.error().exit_status;
  }
  return *status;
}

}  // namespace jobgate::cli
