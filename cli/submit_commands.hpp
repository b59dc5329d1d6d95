#pragma once

#include <string>

#include "cli/command_session.hpp"

namespace jobgate::cli {

// Uploads the command's file as an import job, and follows it with --wait.
command_result run_import(const command_session& run);

// Starts an export job, follows it with --wait and downloads its file with -o.
command_result run_export(const command_session& run);

// Follows a job to its end and prints one line about it. Returns 0 for DONE, 3 for FAILED and 4
// for CANCELED.
command_result wait_for_job(const command_session& run, const std::string& job_id);

// Downloads the file of a DONE export to the command's -o file through the signed link.
command_result download_export(const command_session& run, const std::string& job_id);

}  // namespace jobgate::cli
