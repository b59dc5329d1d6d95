#include "cli/progress_format.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>

namespace jobgate::cli {

std::string format_count(std::uint64_t count) {
  std::string digits = std::to_string(count);
  std::string result;
  const std::size_t first_group = digits.size() % 3 == 0 ? 3 : digits.size() % 3;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i >= first_group && (i - first_group) % 3 == 0) {
      result += ',';
    }
    result += digits[i];
  }
  return result;
}

std::string format_bytes(std::uint64_t bytes) {
  if (bytes < 1024) {
    return std::to_string(bytes) + " B";
  }
  constexpr const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double size = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  while (size >= 1023.95 && unit + 1 < std::size(units)) {
    size /= 1024.0;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", size, units[unit]);
  return text;
}

std::string format_duration(double seconds) {
  const auto total = static_cast<std::uint64_t>(std::max(0.0, std::round(seconds)));
  const auto hours = total / 3600;
  const auto minutes = total / 60 % 60;
  const auto rest = total % 60;
  char text[48];
  if (hours > 0) {
    std::snprintf(text, sizeof text, "%llu:%02llu:%02llu", static_cast<unsigned long long>(hours),
                  static_cast<unsigned long long>(minutes), static_cast<unsigned long long>(rest));
  } else {
    std::snprintf(text, sizeof text, "%llu:%02llu", static_cast<unsigned long long>(minutes),
                  static_cast<unsigned long long>(rest));
  }
  return text;
}

std::string format_rate(double rows_per_second) {
  char text[48];
  if (rows_per_second >= 999'950.0) {
    std::snprintf(text, sizeof text, "%.1fM rows/s", rows_per_second / 1e6);
  } else if (rows_per_second >= 9'999.5) {
    std::snprintf(text, sizeof text, "%.1fk rows/s", rows_per_second / 1e3);
  } else {
    std::snprintf(text, sizeof text, "%.0f rows/s", std::max(0.0, rows_per_second));
  }
  return text;
}

std::string format_bar(double fraction, std::size_t width) {
  const double clamped = std::clamp(std::isnan(fraction) ? 0.0 : fraction, 0.0, 1.0);
  const auto filled = static_cast<std::size_t>(std::floor(clamped * static_cast<double>(width)));
  return "[" + std::string(filled, '#') + std::string(width - filled, '-') + "]";
}

std::optional<double> estimate_seconds_left(const progress_snapshot& snapshot) {
  if (!snapshot.rows_total || !snapshot.rows_per_second || *snapshot.rows_per_second <= 0.0) {
    return std::nullopt;
  }
  const auto left = *snapshot.rows_total > snapshot.rows_done
                        ? *snapshot.rows_total - snapshot.rows_done
                        : std::uint64_t{0};
  return static_cast<double>(left) / *snapshot.rows_per_second;
}

namespace {

double fraction_done(const progress_snapshot& snapshot) {
  if (!snapshot.rows_total || *snapshot.rows_total == 0) {
    return 0.0;
  }
  return std::min(
      1.0, static_cast<double>(snapshot.rows_done) / static_cast<double>(*snapshot.rows_total));
}

std::string format_percent(double fraction) {
  char text[16];
  std::snprintf(text, sizeof text, "%5.1f%%", fraction * 100.0);
  return text;
}

std::string format_rows(const progress_snapshot& snapshot) {
  std::string rows = format_count(snapshot.rows_done);
  if (snapshot.rows_total) {
    rows += "/" + format_count(*snapshot.rows_total);
  }
  return rows + " rows";
}

}  // namespace

std::string format_progress_bar(const progress_snapshot& snapshot, std::size_t bar_width) {
  std::string line(snapshot.status);
  if (snapshot.rows_total) {
    const double fraction = fraction_done(snapshot);
    line += " " + format_bar(fraction, bar_width) + " " + format_percent(fraction);
  }
  line += "  " + format_rows(snapshot);
  if (snapshot.rows_per_second) {
    line += "  " + format_rate(*snapshot.rows_per_second);
  }
  if (const auto left = estimate_seconds_left(snapshot)) {
    line += "  ETA " + format_duration(*left);
  }
  return line;
}

std::string format_progress_line(const progress_snapshot& snapshot) {
  std::string line = std::string(snapshot.status) + " " + format_rows(snapshot);
  if (snapshot.rows_total) {
    std::string percent = format_percent(fraction_done(snapshot));
    percent.erase(0, percent.find_first_not_of(' '));
    line += " (" + percent + ")";
  }
  if (snapshot.rows_per_second) {
    line += ", " + format_rate(*snapshot.rows_per_second);
  }
  if (const auto left = estimate_seconds_left(snapshot)) {
    line += ", ETA " + format_duration(*left);
  }
  return line;
}

void rate_meter::add(double seconds, std::uint64_t rows) {
  // A restarted job (a worker took it over) may report fewer rows: start measuring again.
  if (!samples_.empty() && rows < samples_.back().rows) {
    samples_.clear();
  }
  samples_.push_back({seconds, rows});
  while (samples_.size() > 2 && seconds - samples_[1].seconds >= window_seconds_) {
    samples_.pop_front();
  }
}

std::optional<double> rate_meter::rows_per_second() const {
  if (samples_.size() < 2) {
    return std::nullopt;
  }
  const double elapsed = samples_.back().seconds - samples_.front().seconds;
  if (elapsed < 0.2) {
    return std::nullopt;
  }
  return static_cast<double>(samples_.back().rows - samples_.front().rows) / elapsed;
}

}  // namespace jobgate::cli
