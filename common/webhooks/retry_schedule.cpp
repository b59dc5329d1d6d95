#include "common/webhooks/retry_schedule.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <stdexcept>

namespace jobgate::webhooks {
namespace {

using std::chrono::milliseconds;

struct unit {
  std::string_view suffix;
  std::int64_t milliseconds;
};

// Largest first, so describe() picks the largest unit that divides a delay.
constexpr std::array<unit, 5> units = {{
    {"d", 24 * 3600 * 1000},
    {"h", 3600 * 1000},
    {"m", 60 * 1000},
    {"s", 1000},
    {"ms", 1},
}};

// The cap keeps the jitter arithmetic far from int64 overflow and catches typos such as "30000d".
constexpr std::int64_t max_delay_ms = 30 * units[0].milliseconds;

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

// Parses one entry such as "30s" into milliseconds, or sets `error`.
std::optional<milliseconds> parse_delay(std::string_view entry, std::string& error) {
  const std::string quoted = "\"" + std::string(entry) + "\"";
  std::int64_t count = 0;
  const char* const last = entry.data() + entry.size();
  const auto [end, errc] = std::from_chars(entry.data(), last, count);
  const std::string_view suffix(end, static_cast<std::size_t>(last - end));
  const auto found =
      std::find_if(units.begin(), units.end(), [&](const unit& u) { return u.suffix == suffix; });
  if (errc == std::errc::invalid_argument || found == units.end()) {
    error = "the retry delay " + quoted + " is not a whole number followed by ms, s, m, h or d";
    return std::nullopt;
  }
  if (errc == std::errc{} && count <= 0) {
    error = "the retry delay " + quoted + " must be greater than zero";
    return std::nullopt;
  }
  if (errc == std::errc::result_out_of_range || count > max_delay_ms / found->milliseconds) {
    error = "the retry delay " + quoted + " is longer than 30 days";
    return std::nullopt;
  }
  return milliseconds(count * found->milliseconds);
}

}  // namespace

std::optional<retry_schedule> retry_schedule::parse(std::string_view text, std::string& error) {
  if (trim(text).empty()) {
    error = "the retry schedule is empty; give at least one delay such as \"30s\"";
    return std::nullopt;
  }

  std::vector<milliseconds> delays;
  while (true) {
    const std::size_t comma = text.find(',');
    const std::string_view entry = trim(text.substr(0, comma));
    if (entry.empty()) {
      error = "the retry schedule has an empty entry between commas";
      return std::nullopt;
    }
    const auto delay = parse_delay(entry, error);
    if (!delay) {
      return std::nullopt;
    }
    delays.push_back(*delay);
    if (comma == std::string_view::npos) {
      break;
    }
    text.remove_prefix(comma + 1);
  }
  return retry_schedule(std::move(delays));
}

retry_schedule retry_schedule::standard() {
  using namespace std::chrono_literals;
  return retry_schedule({5s, 30s, 2min, 10min, 30min, 1h, 2h, 4h, 8h, 8h, 8h});
}

milliseconds retry_schedule::delay_after(std::size_t attempts_made, double random01) const {
  if (attempts_made >= max_attempts()) {
    throw std::out_of_range("retry_schedule::delay_after: " + std::to_string(attempts_made) +
                            " attempts made, but the schedule allows " +
                            std::to_string(max_attempts()));
  }
  if (attempts_made == 0) {
    return milliseconds(0);
  }

  // Whole milliseconds in [ceil(0.8 * delay), ceil(1.2 * delay)), which lie inside
  // [0.8 * delay, 1.2 * delay) and hold at least one value even for a 1 ms delay.
  const std::int64_t delay = delays_[attempts_made - 1].count();
  const std::int64_t low = (4 * delay + 4) / 5;
  const std::int64_t high = (6 * delay + 4) / 5;
  const std::int64_t span = high - low;
  const double fraction = random01 >= 0.0 ? std::min(random01, 1.0) : 0.0;
  const auto offset =
      std::min(static_cast<std::int64_t>(fraction * static_cast<double>(span)), span - 1);
  return milliseconds(low + offset);
}

std::string retry_schedule::describe() const {
  std::string text;
  for (const milliseconds delay : delays_) {
    const auto chosen = std::find_if(units.begin(), units.end(), [&](const unit& u) {
      return delay.count() % u.milliseconds == 0;
    });
    if (!text.empty()) {
      text += ',';
    }
    text += std::to_string(delay.count() / chosen->milliseconds);
    text += chosen->suffix;
  }
  return text;
}

}  // namespace jobgate::webhooks
