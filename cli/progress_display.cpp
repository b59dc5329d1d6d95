#include "cli/progress_display.hpp"

#include <ostream>

#include "cli/job_text.hpp"

namespace jobgate::cli {

namespace {

constexpr std::size_t bar_width = 30;
constexpr auto redraw_interval = std::chrono::milliseconds(100);

}  // namespace

progress_display::progress_display(std::ostream& out, bool terminal,
                                   std::chrono::seconds line_interval)
    : out_(out), terminal_(terminal), line_interval_(line_interval) {}

void progress_display::show_upload(std::uint64_t sent, std::uint64_t total) {
  if (!terminal_) {
    return;
  }
  const double fraction = total == 0 ? 1.0 : static_cast<double>(sent) / static_cast<double>(total);
  const std::string line = "uploading " + format_bar(fraction, bar_width) + " " +
                           format_bytes(sent) + " of " + format_bytes(total);
  redraw(line, sent == total);
}

void progress_display::show_job(const json::value& job) {
  progress_snapshot snapshot = snapshot_of(job);
  const auto now = clock::now();
  const double seconds = std::chrono::duration<double>(now - start_).count();
  if (snapshot.status == "PROCESSING") {
    rates_.add(seconds, snapshot.rows_done);
    snapshot.rows_per_second = rates_.rows_per_second();
  }

  const bool status_changed = snapshot.status != last_status_;
  last_status_ = std::string(snapshot.status);
  if (terminal_) {
    redraw(format_progress_bar(snapshot, bar_width), status_changed);
    return;
  }
  if (status_changed || now - last_draw_ >= line_interval_) {
    last_draw_ = now;
    out_ << format_progress_line(snapshot) << '\n' << std::flush;
  }
}

void progress_display::finish() {
  if (line_open_) {
    out_ << '\n' << std::flush;
    line_open_ = false;
  }
}

void progress_display::redraw(const std::string& line, bool force) {
  const auto now = clock::now();
  if (!force && now - last_draw_ < redraw_interval) {
    return;
  }
  last_draw_ = now;
  // Carriage return to the line start, the new text, then erase what a longer line left behind.
  out_ << '\r' << line << "\x1b[K" << std::flush;
  line_open_ = true;
}

}  // namespace jobgate::cli
