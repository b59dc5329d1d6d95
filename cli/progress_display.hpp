#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

#include "cli/progress_format.hpp"
#include "common/json/json.hpp"

namespace jobgate::cli {

// Shows the progress of an upload and a job on one output stream. On a terminal it redraws one
// line in place with a bar, at most 10 times a second. Elsewhere it writes a plain line when the
// status changes and at most every `line_interval` while it stays the same; uploads show nothing.
class progress_display {
 public:
  progress_display(std::ostream& out, bool terminal,
                   std::chrono::seconds line_interval = std::chrono::seconds(5));

  // Shows that `sent` of `total` bytes of an upload are written.
  void show_upload(std::uint64_t sent, std::uint64_t total);

  // Shows the state of a job resource.
  void show_job(const json::value& job);

  // Ends the line that a terminal redraws, so later output starts on a new line.
  void finish();

 private:
  using clock = std::chrono::steady_clock;

  void redraw(const std::string& line, bool force);

  std::ostream& out_;
  bool terminal_;
  std::chrono::seconds line_interval_;
  clock::time_point start_ = clock::now();
  clock::time_point last_draw_{};
  std::string last_status_;
  bool line_open_ = false;
  rate_meter rates_;
};

}  // namespace jobgate::cli
