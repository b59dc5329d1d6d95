#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace jobgate::cli {

// The state of a job that one progress line shows.
struct progress_snapshot {
  std::string_view status;                  // PENDING, PROCESSING, ...
  std::uint64_t rows_done = 0;              // progress.rowsProcessed
  std::optional<std::uint64_t> rows_total;  // progress.rowsTotal, once counted
  std::optional<double> rows_per_second;    // from rate_meter, once measurable
};

// Formats 1234567 as "1,234,567".
std::string format_count(std::uint64_t count);

// Formats a size as "512 B", "12.3 KiB", "4.5 MiB" or "1.2 GiB".
std::string format_bytes(std::uint64_t bytes);

// Formats whole seconds as "m:ss", or "h:mm:ss" from one hour on. Negative input counts as 0.
std::string format_duration(double seconds);

// Formats a rate as "850 rows/s", "12.3k rows/s" or "1.2M rows/s".
std::string format_rate(double rows_per_second);

// Returns a bar of `width` cells between brackets, the first `fraction` of them filled with '#'.
// The fraction is clamped to 0..1.
std::string format_bar(double fraction, std::size_t width);

// Returns the seconds left at the given rate, or nullopt without a total or a positive rate.
std::optional<double> estimate_seconds_left(const progress_snapshot& snapshot);

// One line for a terminal: bar and percent when the total is known, then rows, rate and ETA,
// such as "PROCESSING [#####-----]  50.0%  500/1,000 rows  100 rows/s  ETA 0:05".
std::string format_progress_bar(const progress_snapshot& snapshot, std::size_t bar_width);

// One line for a log or pipe, without the bar, such as
// "PROCESSING 500/1,000 rows (50.0%), 100 rows/s, ETA 0:05".
std::string format_progress_line(const progress_snapshot& snapshot);

// Measures rows per second over a sliding window of samples, with time passed in by the caller.
class rate_meter {
 public:
  explicit rate_meter(double window_seconds = 10.0) : window_seconds_(window_seconds) {}

  // Adds a sample: `rows` done at `seconds` since an arbitrary fixed start.
  void add(double seconds, std::uint64_t rows);

  // Returns the rate between the oldest and newest sample in the window, or nullopt before two
  // samples at least 0.2 s apart exist.
  std::optional<double> rows_per_second() const;

 private:
  struct sample {
    double seconds;
    std::uint64_t rows;
  };
  double window_seconds_;
  std::deque<sample> samples_;
};

}  // namespace jobgate::cli
