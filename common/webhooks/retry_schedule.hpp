#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace jobgate::webhooks {

// The delays between delivery attempts of one webhook. The first attempt is immediate and the
// n-th entry is the delay after the n-th failed attempt, so a schedule of k entries allows k + 1
// attempts. Immutable after construction and safe to share between threads.
class retry_schedule {
 public:
  // Parses comma-separated durations such as "5s,30s,2m,1h". Each is a positive whole number
  // followed by ms, s, m, h or d, at most 30 days, and may have spaces around it. Returns nullopt
  // and sets `error` to a sentence naming the entry that is invalid.
  static std::optional<retry_schedule> parse(std::string_view text, std::string& error);

  // Returns the default schedule, "5s,30s,2m,10m,30m,1h,2h,4h,8h,8h,8h": 12 attempts, the last
  // one about 32 hours after the first before jitter.
  static retry_schedule standard();

  // Returns the number of attempts allowed, including the first.
  std::size_t max_attempts() const { return delays_.size() + 1; }

  // Returns the delay before the next attempt after `attempts_made` failed attempts. That is the
  // entry at 1-based index `attempts_made` times a jitter factor 0.8 + 0.4 * `random01`, in whole
  // milliseconds within [0.8, 1.2) times the entry. A `random01` outside [0, 1) is clamped into
  // it. Zero when `attempts_made` is 0, because the first attempt is immediate. Throws
  // std::out_of_range unless attempts_made < max_attempts().
  std::chrono::milliseconds delay_after(std::size_t attempts_made, double random01) const;

  // Formats the schedule in the syntax parse() reads, each entry in its largest whole unit.
  std::string describe() const;

 private:
  explicit retry_schedule(std::vector<std::chrono::milliseconds> delays)
      : delays_(std::move(delays)) {}

  std::vector<std::chrono::milliseconds> delays_;
};

}  // namespace jobgate::webhooks
